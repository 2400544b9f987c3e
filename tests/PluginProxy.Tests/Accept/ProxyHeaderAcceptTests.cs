using System.Net;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Accept;

/// <summary>
/// PROXY protocol headers read by the generic accept, observed through the <c>probe</c> supervisor. The listener gives
/// a header 500 ms (<c>timeout_client_hs</c>) to arrive, so these tests run alone: a pause of the process (a forced
/// garbage collection in a test beside them) would close the connection before the header is read.
/// </summary>
[Collection(TimingSensitive.Name)]
public class ProxyHeaderAcceptTests
{
    [Fact]
    public async Task ProxyV1Header_BecomesTheClientAndDestination()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(GenericAcceptTests.ProbeConfig("\"proxy_protocol\""));

        string probe = await GenericAcceptTests.ProbeAsync(proxy, Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n"));

        Assert.Contains("client=192.0.2.10:56324 peer=127.0.0.1:", probe);
        Assert.Contains("destination=198.51.100.1:443", probe);
        Assert.Contains("proxy=1", probe);
    }

    [Fact]
    public async Task ProxyV2Header_BecomesTheClient()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(GenericAcceptTests.ProbeConfig("\"proxy_protocol\""));
        byte[] header = ProxyProtocolParserTests.V2Inet(IPAddress.Parse("2001:db8::7"), 4242, IPAddress.Parse("2001:db8::1"), 443);

        string probe = await GenericAcceptTests.ProbeAsync(proxy, header);

        Assert.Contains("client=[2001:db8::7]:4242", probe);
        Assert.Contains("proxy=2", probe);
    }

    [Fact]
    public async Task ProxyHeaderSentInPieces_IsStillReadExactly()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(GenericAcceptTests.ProbeConfig("\"proxy_protocol\""));
        using Socket client = await proxy.ConnectAsync();
        byte[] header = Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n");

        foreach (byte b in header)
        {
            await client.SendAllAsync(new[] { b });
        }

        string probe = Encoding.ASCII.GetString(await client.ReadToEndAsync());
        Assert.Contains("client=192.0.2.10:56324", probe);
    }

    [Fact]
    public async Task MissingProxyHeader_IsClosedAfterTheHandshakeTimeout()
    {
        await using RunningProxy proxy = await RunningProxy.StartAsync(GenericAcceptTests.ProbeConfig("\"proxy_protocol\""));
        using Socket client = await proxy.ConnectAsync();

        Assert.True(await client.WaitForCloseAsync(TimeSpan.FromSeconds(5)), "a silent client must be closed");
        string line = await proxy.Logs.WaitForSessionAsync(l => l.Contains("handshake_failed"), "the handshake timeout");
        Assert.Contains("no complete PROXY header within 500ms", line);
    }
}
