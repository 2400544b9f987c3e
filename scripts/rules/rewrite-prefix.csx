// Request rule: serve the old URL space from the new one, /legacy/x -> /v2/x (the client sees no redirect).

if (RewritePathPrefix("/legacy/", "/v2/"))
{
    Request.Headers.Set("X-Rewritten-From", "/legacy/");
}
