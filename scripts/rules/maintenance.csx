// Request rule: answer every request with a maintenance page, without contacting any server. Add it to a
// listener (and reload) for the duration of the maintenance; health checks from the office network still pass.

static readonly IPNetwork Office = IPNetwork.Parse("127.0.0.0/8");

if (!ClientIn(Office) || Request.Path != "/health")
{
    Respond(503, "<html><body><h1>Down for maintenance</h1>\nWe will be back shortly.\n</body></html>\n",
        ("Content-Type", "text/html; charset=utf-8"),
        ("Retry-After", "300"),
        ("Cache-Control", "no-store"));
}
