using PluginProxy.Http.Engine.H2;
using PluginProxy.Http.Engine.H2.Upstream;
using PluginProxy.TestKit;

namespace PluginProxy.Tests.Http.H2.Upstream;

/// <summary>Our client connection (<see cref="Http2ServerConnection"/>) and the server-role connection (<see cref="Http2ClientConnection"/>) with a handler, over an in-memory pair.</summary>
internal sealed class UpstreamPair : IAsyncDisposable
{
    private readonly InMemoryTransport _clientEnd;
    private readonly InMemoryTransport _serverEnd;

    public UpstreamPair(Func<Http2ServerStream, ValueTask>? handler = null, Http2Limits? limits = null, Http2UpstreamOptions? options = null)
    {
        (_clientEnd, _serverEnd) = InMemoryTransport.CreatePair();
        Server = new Http2ClientConnection(_serverEnd, handler ?? EchoHandler.HandleAsync, limits);
        ServerRun = Task.Run(Server.RunAsync);
        Client = new Http2ServerConnection(_clientEnd, options);
        ClientRun = Task.Run(Client.RunAsync);
    }

    public Http2ClientConnection Server { get; }

    public Task ServerRun { get; }

    public Http2ServerConnection Client { get; }

    public Task ClientRun { get; }

    public Http2ClientStream Open()
    {
        Assert.True(Client.TryOpenStream(out Http2ClientStream stream));
        return stream;
    }

    public async ValueTask DisposeAsync()
    {
        Client.BeginShutdown();
        Server.BeginShutdown();
        await Task.WhenAll(ClientRun, ServerRun).WaitAsync(TimeSpan.FromSeconds(10));
        _clientEnd.Dispose();
        _serverEnd.Dispose();
    }
}
