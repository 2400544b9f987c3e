using System.Net;

namespace PluginProxy.Host.Rules;

/// <summary>
/// <c>src</c>: the client's address (from a PROXY header when the listener accepts one) is inside one of the networks;
/// an IPv4-mapped IPv6 address counts as IPv4.
/// </summary>
internal sealed class SourceTest(IPNetwork[] networks) : RuleTest
{
    public override bool Holds(in RuleInput input)
    {
        if (input.Stream.Session.Connection.ClientEndPoint is not IPEndPoint client)
        {
            return false;
        }

        IPAddress address = client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address;
        foreach (IPNetwork network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
