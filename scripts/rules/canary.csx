// Request rule: send a canary share of traffic to the "canary" backend. A client opts in with the header
// "X-Canary: 1" or the cookie "canary=1"; everyone else stays on the listener's backend.

bool optedIn = Request.Headers["X-Canary"] == "1"
    || (Request.Headers["Cookie"] is { } cookies && cookies.Split(';').Any(c => c.Trim() == "canary=1"));
if (optedIn)
{
    Backend = "canary";
    Vars["canary"] = true;
}
