using System.Collections.Concurrent;
using PluginProxy.Abstractions;

namespace PluginProxy.TestKit;

/// <summary>
/// An <see cref="IServerConnector"/> whose servers are in memory and answer from a script: each request a server reads
/// (an HTTP/1.x request) is recorded in <see cref="Requests"/> and answered with the next of the replies given (the last
/// one repeats). In <see cref="ReadsHttp"/> false mode (tcp), a connection's whole input is read first, then the reply sent.
/// </summary>
public sealed class ScriptedServer : IServerConnector
{
    private readonly ServerReply[] _replies;
    private readonly ConcurrentQueue<ServerRequest> _requests = new();
    private readonly ConcurrentQueue<byte[]> _received = new();
    private readonly List<Task> _running = [];
    private int _answered;
    private int _connections;

    /// <summary>A server answering each request with the next of <paramref name="replies"/> (the last repeats).</summary>
    public ScriptedServer(params ServerReply[] replies) => _replies = replies.Length > 0 ? replies : [ServerReply.Ok()];

    /// <summary>When false, the server reads a connection to its end (the client side shut down) before replying, as a tcp test wants.</summary>
    public bool ReadsHttp { get; init; } = true;

    /// <summary>When set, connecting fails with this termination (<see cref="SessionTermination.ServerRefused"/> say).</summary>
    public SessionTermination? RefuseWith { get; init; }

    /// <summary>The requests servers received, in order.</summary>
    public IReadOnlyList<ServerRequest> Requests => _requests.ToArray();

    /// <summary>In tcp mode: what each connection received, in order.</summary>
    public IReadOnlyList<byte[]> Received => _received.ToArray();

    /// <summary>How many connections were made.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <inheritdoc/>
    public ValueTask<ConnectResult> ConnectAsync(IBackend backend, ServerSelection selection, CancellationToken cancellationToken) =>
        Connect(backend, backend.PickServer(selection));

    /// <inheritdoc/>
    public ValueTask<ConnectResult> ConnectAsync(IBackend backend, IServer first, ServerSelection selection, CancellationToken cancellationToken) =>
        Connect(backend, first);

    private ValueTask<ConnectResult> Connect(IBackend backend, IServer? server)
    {
        if (server is null || RefuseWith is { } refused)
        {
            SessionTermination failure = server is null ? SessionTermination.NoServer : RefuseWith!.Value;
            return ValueTask.FromResult(new ConnectResult(null, failure, 0, TimeSpan.Zero, server is null ? $"no server of {backend.Name} is up" : "refused by the script"));
        }

        Interlocked.Increment(ref _connections);
        (InMemoryTransport proxySide, InMemoryTransport serverSide) = InMemoryTransport.CreatePair();
        Task serving = ReadsHttp ? ServeHttpAsync(serverSide) : ServeTcpAsync(serverSide);
        lock (_running)
        {
            _running.Add(serving);
        }

        return ValueTask.FromResult(new ConnectResult(new Connection(proxySide, server), SessionTermination.Normal, 0, TimeSpan.Zero, null));
    }

    /// <summary>Completes when every connection's script finished (each connection closed).</summary>
    public Task Completion
    {
        get
        {
            lock (_running)
            {
                return Task.WhenAll(_running);
            }
        }
    }

    private ServerReply NextReply() => _replies[Math.Min(Interlocked.Increment(ref _answered) - 1, _replies.Length - 1)];

    private async Task ServeHttpAsync(InMemoryTransport connection)
    {
        using (connection)
        {
            var reader = new HttpMessageReader(connection);
            try
            {
                while (await reader.ReadAsync(isResponse: false, headRequest: false, CancellationToken.None) is { } request)
                {
                    _requests.Enqueue(new ServerRequest(request));
                    ServerReply reply = NextReply();
                    await connection.SendAsync(reply.Bytes);
                    if (reply.CloseAfter)
                    {
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // The proxy closed mid-message: the script ends with the connection.
            }
        }
    }

    private async Task ServeTcpAsync(InMemoryTransport connection)
    {
        using (connection)
        {
            try
            {
                _received.Enqueue(await connection.ReadToEndAsync());
                await connection.SendAsync(NextReply().Bytes);
                await connection.ShutdownSendAsync();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // The proxy closed first.
            }
        }
    }

    private sealed class Connection(Transport transport, IServer server) : ServerConnection(transport, server)
    {
        public override void Dispose() => Transport.Dispose();
    }
}
