using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace PluginProxy.Abstractions;

/// <summary>
/// The stream a TLS session runs over (<see cref="TlsTransport"/>): a connected socket's bytes, like
/// <see cref="NetworkStream"/>, with two things more that parking needs. It says when its pending read is a zero-byte
/// one, and only then lets the host take the socket away (<see cref="TryDetach"/>: the TLS stream above it then holds no
/// byte of the client's), and the host can put another socket over the same connection under it (<see cref="Attach"/>)
/// when it resumes a parked connection, so that the TLS session, which lives in the stream above, goes on.
/// </summary>
public sealed class SocketStream : Stream
{
    private const int Reading = 0, WaitingZeroByte = 1, Detached = 2;
    private Socket _socket;
    private int _state;

    /// <summary>A stream over <paramref name="socket"/>; disposing the stream does not close the socket (its transport does).</summary>
    public SocketStream(Socket socket) => _socket = socket;

    /// <summary>The socket underneath now.</summary>
    public Socket Socket => Volatile.Read(ref _socket);

    /// <summary>
    /// Ends the stream's use of its socket if, and only if, a zero-byte read is pending: that read then fails (even if
    /// data came meanwhile, which stays in the socket), and so does every read until <see cref="Attach"/>. False when
    /// another read runs or the wait just completed: the stream above may hold bytes the socket no longer has.
    /// </summary>
    internal bool TryDetach() => Interlocked.CompareExchange(ref _state, Detached, WaitingZeroByte) == WaitingZeroByte;

    /// <summary>Undoes <see cref="TryDetach"/> when the park could not go on (unless the wait ended meanwhile: it failed).</summary>
    internal void CancelDetach() => Interlocked.CompareExchange(ref _state, WaitingZeroByte, Detached);

    /// <summary>Lets go of the socket of a detached stream (the host closed it), until <see cref="Attach"/>.</summary>
    internal void Clear() => Volatile.Write(ref _socket, null!);

    /// <summary>Puts <paramref name="socket"/> (a new socket over the same connection) underneath a detached stream.</summary>
    internal void Attach(Socket socket)
    {
        Volatile.Write(ref _socket, socket);
        Volatile.Write(ref _state, Reading);
    }

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _state) == Detached)
        {
            return ValueTask.FromException<int>(new ObjectDisposedException(nameof(SocketStream), "the connection was parked"));
        }

        if (!buffer.IsEmpty)
        {
            return Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }

        Volatile.Write(ref _state, WaitingZeroByte);
        ValueTask<int> wait = Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        return EndWait(wait, cancellationToken);
    }

    /// <summary>
    /// The end of a zero-byte wait. The runtime completes a waiting zero-byte read at any readiness event of the socket,
    /// a stale one too (an event for data read since): when the wait ended that way with nothing to read, it starts
    /// again, so that the TLS stream above does not go on to read a record with its buffer (the connection could not
    /// park while that read waits). The end of the stream reads as nothing too; the next zero-byte read then completes
    /// at once, and is returned.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> EndWait(ValueTask<int> wait, CancellationToken cancellationToken)
    {
        while (true)
        {
            bool atOnce = wait.IsCompleted;
            int n;
            try
            {
                n = await wait.ConfigureAwait(false);
            }
            catch
            {
                Interlocked.CompareExchange(ref _state, Reading, WaitingZeroByte);
                throw;
            }

            // Whoever moves the state away from the wait first wins: this read, or a park (TryDetach).
            if (Interlocked.CompareExchange(ref _state, Reading, WaitingZeroByte) == Detached)
            {
                throw new ObjectDisposedException(nameof(SocketStream), "the connection was parked");
            }

            if (atOnce || Socket.Available > 0)
            {
                return n;
            }

            // Detachable again only once the new wait is pending: a park while the read call holds the socket would make
            // the runtime disconnect it when the host closes it.
            wait = Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);
            if (!wait.IsCompleted)
            {
                Volatile.Write(ref _state, WaitingZeroByte);
            }
        }
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ValueTask<int> sent = Socket.SendAsync(buffer, SocketFlags.None, cancellationToken);
        if (sent.IsCompletedSuccessfully)
        {
            _ = sent.Result;
            return default;
        }

        return AwaitSentAsync(sent);

        static async ValueTask AwaitSentAsync(ValueTask<int> sent) => await sent.ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Socket.Receive(buffer, offset, count, SocketFlags.None);

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => Socket.Send(buffer, offset, count, SocketFlags.None);

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();
}
