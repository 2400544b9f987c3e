using PluginProxy.Abstractions;
using PluginProxy.Http.Engine.H2.Upstream;

namespace PluginProxy.Http.Upstream;

/// <summary>
/// One HTTP/2 connection as the <see cref="Http2ServerPool"/> knows it: the connection, what owns its transport, and the
/// pool's counts. The counts are guarded by the server's <see cref="Http2ServerConnections.Gate"/>.
/// </summary>
internal sealed class Http2PooledConnection
{
    private readonly IDisposable _owner;
    private readonly ServerConnection? _serverConnection;

    /// <param name="connection">The connection over <paramref name="owner"/>'s transport.</param>
    /// <param name="owner">What is disposed when the connection ended: the transport, or the <see cref="ServerConnection"/> holding it.</param>
    /// <param name="serverConnection">The server connection record, told when the connection carries streams or none; or null.</param>
    public Http2PooledConnection(Http2ServerConnection connection, IDisposable owner, ServerConnection? serverConnection)
    {
        Connection = connection;
        _owner = owner;
        _serverConnection = serverConnection;
    }

    public Http2ServerConnection Connection { get; }

    /// <summary>Completes when the connection ended and its transport was disposed.</summary>
    public Task Ended { get; set; } = Task.CompletedTask;

    /// <summary>True once the server's first SETTINGS arrived (before that, its stream limit is unknown).</summary>
    public bool Ready => Connection.SettingsReceived.IsCompleted;

    /// <summary>True while it is in its server's list (false for one opened after the pool was disposed).</summary>
    public bool Pooled { get; set; }

    /// <summary>Leases not disposed yet.</summary>
    public int Leases { get; private set; }

    /// <summary>Since when no lease is held (<see cref="Environment.TickCount64"/>, the heartbeat's clock).</summary>
    public long IdleSince { get; private set; } = Environment.TickCount64;

    /// <summary>A lease was given (under the gate).</summary>
    public void OnLeased()
    {
        Leases++;
        if (Leases == 1)
        {
            _serverConnection?.SetIdle(false);
        }
    }

    /// <summary>A lease was disposed (under the gate).</summary>
    public void OnReleased()
    {
        Leases--;
        if (Leases == 0)
        {
            IdleSince = Environment.TickCount64;
            _serverConnection?.SetIdle(true);
        }
    }

    /// <summary>Disposes the transport (or the server connection holding it).</summary>
    public void Close() => _owner.Dispose();
}
