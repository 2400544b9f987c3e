using System.Net.Security;
using System.Net.Sockets;

namespace PluginProxy.Abstractions;

/// <summary>
/// A TLS session over a socket, after its handshake: reads return decrypted bytes straight into the caller's buffer and
/// writes encrypt from the caller's memory, with no further copy. <see cref="SslStream"/> keeps its record buffer only
/// while a record is in flight, and OpenSSL is told to release its own between records (on Linux), so an idle connection
/// waiting in <see cref="WaitForDataAsync"/> holds as little as the TLS library allows.
/// </summary>
public sealed class TlsTransport : Transport
{
    private readonly SslStream _stream;
    private readonly SocketStream? _inner;
    private int _disposed;

    /// <summary>Wraps an authenticated <paramref name="stream"/> running over <paramref name="socket"/>; disposing it closes both.</summary>
    /// <exception cref="InvalidOperationException">The handshake has not completed.</exception>
    public TlsTransport(Socket socket, SslStream stream)
        : base(socket)
    {
        if (!stream.IsAuthenticated)
        {
            throw new InvalidOperationException("the TLS handshake must complete before the transport is made");
        }

        _stream = stream;
        OpenSslBuffers.ReleaseWhenIdle(stream);
        Tls = new TlsInfo(
            string.IsNullOrEmpty(stream.TargetHostName) ? null : stream.TargetHostName,
            stream.NegotiatedApplicationProtocol.Protocol.IsEmpty ? null : stream.NegotiatedApplicationProtocol.ToString(),
            stream.SslProtocol,
            stream.NegotiatedCipherSuite);
    }

    /// <summary>
    /// Wraps an authenticated <paramref name="stream"/> running over <paramref name="inner"/>: a transport the host can
    /// park while it idles and resume over a new socket, with the same TLS session (<see cref="ISession.TryPark"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">The handshake has not completed.</exception>
    public TlsTransport(SocketStream inner, SslStream stream)
        : this(inner.Socket, stream)
    {
        _inner = inner;
    }

    /// <summary>The same TLS session over the socket a resumed connection got.</summary>
    internal TlsTransport(SocketStream inner, SslStream stream, TlsInfo tls)
        : base(inner.Socket)
    {
        _inner = inner;
        _stream = stream;
        Tls = tls;
    }

    /// <summary>True when the transport runs over a <see cref="SocketStream"/>, so that it can be parked.</summary>
    public bool CanPark => _inner is not null;

    /// <summary>
    /// Takes the socket away from the TLS session while it waits for data with nothing buffered (the pending wait
    /// fails; <see cref="Dispose"/> then leaves the session open): what the parked connection keeps of the session, or
    /// null when it is not waiting so.
    /// </summary>
    internal DetachedTls? TryDetach()
    {
        if (_inner is null || !_inner.TryDetach())
        {
            return null;
        }

        Volatile.Write(ref _disposed, 1);
        return new DetachedTls(_inner, _stream, Tls);
    }

    /// <summary>Undoes <see cref="TryDetach"/> when the host could not park the connection after all.</summary>
    internal void CancelDetach()
    {
        _inner!.CancelDetach();
        Volatile.Write(ref _disposed, 0);
    }

    /// <inheritdoc/>
    public override TlsInfo Tls { get; }

    /// <summary>The TLS stream, for what the transport does not cover (certificates seen, channel bindings).</summary>
    public SslStream Stream => _stream;

    /// <inheritdoc/>
    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _stream.ReadAsync(buffer, cancellationToken);

    /// <inheritdoc/>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        _stream.WriteAsync(data, cancellationToken);

    /// <inheritdoc/>
    public override ValueTask WaitForDataAsync(CancellationToken cancellationToken = default) =>
        Ignore(_stream.ReadAsync(Memory<byte>.Empty, cancellationToken));

    /// <inheritdoc/>
    public override async ValueTask ShutdownSendAsync()
    {
        await _stream.ShutdownAsync().ConfigureAwait(false);
        Socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>
    /// Why a TLS handshake failed, on one line for a log: the exception's message and, when it wraps others, the
    /// innermost one (what OpenSSL or the peer said).
    /// </summary>
    public static string DescribeFailure(Exception exception)
    {
        Exception inner = exception;
        while (inner.InnerException is { } next)
        {
            inner = next;
        }

        return (inner == exception ? exception.Message : $"{exception.Message} ({inner.Message})").ReplaceLineEndings(" ");
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stream.Dispose();
            Socket.Dispose();
        }
    }
}
