// The script of the scripting benchmark: five rules of the kinds operators write, run on every request.

static readonly IPNetwork[] Blocked = [IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("198.51.100.0/24")];

// 1. Refuse some networks.
if (ClientIn(Blocked))
{
    Deny();
    return;
}

// 2. Refuse a method.
if (Request.Method == "TRACE")
{
    Deny(405);
    return;
}

// 3. Canary by header.
if (Request.Headers["X-Canary"] == "1")
{
    Vars["canary"] = true;
}

// 4. Rewrite a legacy prefix.
RewritePathPrefix("/legacy/", "/");

// 5. Tag the request.
Request.Headers.Set("X-Proxy", "pluginproxy");
