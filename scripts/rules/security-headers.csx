// Response rule: add the usual security headers to every response that does not set them itself.
// Use it in response_analyzers = ["rules/security-headers.csx"] for servers' responses, or in
// after_response_analyzers to cover the proxy's own replies (denies, redirects, error pages) as well.

SetDefault("X-Content-Type-Options", "nosniff");
SetDefault("X-Frame-Options", "DENY");
SetDefault("Referrer-Policy", "strict-origin-when-cross-origin");
if (IsTls)
{
    SetDefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
}

void SetDefault(string name, string value)
{
    if (!Response.Headers.Contains(name))
    {
        Response.Headers.Set(name, value);
    }
}
