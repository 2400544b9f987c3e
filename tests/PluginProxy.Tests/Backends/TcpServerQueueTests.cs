using System.Text;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Backends;

/// <summary>In tcp mode a session holds its server slot from connect to close.</summary>
public class TcpServerQueueTests
{
    [Fact]
    public async Task TcpSession_HoldsItsSlotUntilItCloses_TheNextOneWaitsInTheQueue()
    {
        await using StubServer echo = StubServer.Echo();
        string toml = TcpConfig.For([echo.Address]).Replace($"address = \"{echo.Address}\" }}", $"address = \"{echo.Address}\", maxconn = 1 }}");
        await using RunningProxy proxy = await RunningProxy.StartAsync(toml);
        Backend backend = proxy.Host.Backends.Backends[0];
        Server server = backend.ServerStates[0];

        using System.Net.Sockets.Socket first = await proxy.ConnectAsync();
        await first.SendAllAsync("one"u8.ToArray());
        Assert.Equal("one", Encoding.ASCII.GetString(await first.ReadExactlyAsync(3)));
        Assert.Equal(1, server.Served);

        using System.Net.Sockets.Socket second = await proxy.ConnectAsync();
        await second.SendAllAsync("two"u8.ToArray());
        await Wait.UntilAsync(() => backend.Queue.Length == 1, "the second session queued");
        Assert.Equal(1, echo.Accepted);

        first.Close();
        Assert.Equal("two", Encoding.ASCII.GetString(await second.ReadExactlyAsync(3)));
        Assert.Equal(0, backend.Queue.Length);
        second.Close();
        await Wait.UntilAsync(() => server.Served == 0, "the slot given back");
    }
}
