using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace PluginProxy.Abstractions;

/// <summary>
/// A connection's byte stream as supervisors read and write it: the socket itself (<see cref="SocketTransport"/>), or a
/// TLS session over it (<see cref="TlsTransport"/>). Supervisors written against it run the same over plain TCP and
/// over TLS, on the client side (<see cref="ISession.Transport"/>) and the server side (<see cref="ServerConnection.Transport"/>).
/// </summary>
/// <remarks>
/// One read and one write may be pending at the same time (one in each direction); never two reads or two writes.
/// Disposing the transport closes the socket, which ends pending operations with an exception. A transport may also have
/// no socket at all (an in-memory one, as the test kit's); <see cref="HasSocket"/> says which.
/// </remarks>
public abstract class Transport : IDisposable
{
    private readonly Socket? _socket;

    /// <summary>Creates a transport over <paramref name="socket"/>.</summary>
    protected Transport(Socket socket) => _socket = socket;

    /// <summary>Creates a transport with no socket underneath (in memory, say): <see cref="Socket"/> throws, <see cref="HasSocket"/> is false.</summary>
    protected Transport()
    {
    }

    /// <summary>The connected socket underneath (for its endpoints and options; read and write through the transport).</summary>
    /// <exception cref="NotSupportedException">The transport has no socket (<see cref="HasSocket"/> is false).</exception>
    public Socket Socket => _socket ?? throw new NotSupportedException($"{GetType().Name} has no socket underneath");

    /// <summary>True when a socket is underneath (<see cref="Socket"/> may be read); false for a transport in memory.</summary>
    public bool HasSocket => _socket is not null;

    /// <summary>What the TLS handshake settled, or null on a plain connection.</summary>
    public virtual TlsInfo? Tls => null;

    /// <summary>Reads into <paramref name="buffer"/>: the number of bytes read, or 0 when the peer closed its sending side.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Writes all of <paramref name="data"/>.</summary>
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Completes when data can be read or the peer closed, without holding a buffer meanwhile (a zero-byte read): an idle
    /// connection then costs no memory for data. Follow it with <see cref="ReceiveAsync"/>.
    /// </summary>
    public abstract ValueTask WaitForDataAsync(CancellationToken cancellationToken = default);

    /// <summary>Ends the sending direction (for TLS: a close_notify alert first, then the TCP FIN); reading may go on.</summary>
    public abstract ValueTask ShutdownSendAsync();

    /// <summary>Ends the receiving direction of the socket (a transport without one overrides this).</summary>
    public virtual void ShutdownReceive() => _socket?.Shutdown(SocketShutdown.Receive);

    /// <summary>Closes the connection (idempotent).</summary>
    public abstract void Dispose();

    /// <summary>Completes a <see cref="ValueTask{TResult}"/> as a <see cref="ValueTask"/>, without allocating when it already completed.</summary>
    private protected static ValueTask Ignore(ValueTask<int> pending)
    {
        if (pending.IsCompletedSuccessfully)
        {
            _ = pending.Result;
            return default;
        }

        return Await(pending);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        static async ValueTask Await(ValueTask<int> pending) => await pending.ConfigureAwait(false);
    }
}

/// <summary>A plain TCP connection: reads and writes go straight to the socket.</summary>
public sealed class SocketTransport : Transport
{
    /// <summary>Creates the transport of a connected socket; disposing it closes the socket.</summary>
    public SocketTransport(Socket socket)
        : base(socket)
    {
    }

    /// <inheritdoc/>
    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    /// <inheritdoc/>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        Ignore(Socket.SendAsync(data, SocketFlags.None, cancellationToken));

    /// <inheritdoc/>
    public override ValueTask WaitForDataAsync(CancellationToken cancellationToken = default) =>
        Ignore(Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken));

    /// <summary>
    /// Reads what the socket holds now, without waiting: the count read (0: the client ended the stream), or -1 when it
    /// holds nothing. For the end of a zero-byte wait: the runtime completes a waiting zero-byte read at any readiness
    /// event of the socket, a stale one too (an event for data read since), and this read tells the two apart at the
    /// cost of the read that would follow anyway. The socket's synchronous calls stop blocking from the first call on
    /// (<see cref="Socket.Blocking"/>; its asynchronous ones never block). Throws <see cref="SocketException"/> on an error.
    /// </summary>
    public int ReceiveNow(Span<byte> buffer)
    {
        Socket socket = Socket;
        if (socket.Blocking)
        {
            socket.Blocking = false;
        }

        int n = socket.Receive(buffer, SocketFlags.None, out SocketError error);
        return error switch
        {
            SocketError.Success => n,
            SocketError.WouldBlock => -1,
            _ => throw new SocketException((int)error),
        };
    }

    /// <inheritdoc/>
    public override ValueTask ShutdownSendAsync()
    {
        Socket.Shutdown(SocketShutdown.Send);
        return default;
    }

    /// <inheritdoc/>
    public override void Dispose() => Socket.Dispose();
}
