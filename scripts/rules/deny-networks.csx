#load "../lib/networks.csx"
// Request rule: refuse clients from the networks listed in lib/networks.csx (with a PROXY header in front, the
// client is the address the header carries).

if (ClientIn(Blocked))
{
    Log($"denied {Client.Address}");
    Deny(403, "Your network is not allowed here.\n");
}
