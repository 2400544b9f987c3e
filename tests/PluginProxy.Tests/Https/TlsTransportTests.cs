using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using PluginProxy.Abstractions;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Https;

public class TlsTransportTests
{
    [SkippableFact]
    public async Task OpenSsl_IsToldToReleaseItsRecordBuffersWhileIdle_AndTheConnectionStillWorks()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "SSL_MODE_RELEASE_BUFFERS is set on Linux only");
        using TlsPair pair = await TlsPair.HandshakeAsync(socket => new NetworkStream(socket, ownsSocket: false));
        (SslStream stream, TlsClient client) = (pair.Server, pair.Client);
        Assert.Equal(0, (OpenSslBuffers.ModeOf(stream) ?? -1) & 0x10);

        using var transport = new TlsTransport(pair.ServerSocket, stream);

        long? mode = OpenSslBuffers.ModeOf(stream);
        Assert.NotNull(mode);
        Assert.Equal(0x10, mode & 0x10);
        await client.Stream.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[16];
        Assert.Equal(4, await transport.ReceiveAsync(buffer));
        await transport.SendAsync("pong"u8.ToArray());
        Assert.Equal(4, await client.Stream.ReadAsync(buffer));
        Assert.Equal("pong", System.Text.Encoding.ASCII.GetString(buffer, 0, 4));
    }

    [Fact]
    public async Task SocketStream_GivesUpItsSocket_OnlyWhileAZeroByteReadWaits_AndLeavesTheDataInTheSocket()
    {
        (Socket server, Socket client) = await ConnectedPairAsync();
        using Socket s = server, c = client;
        var stream = new SocketStream(server);
        var buffer = new byte[16];

        // Data came and the wait completed: the stream is reading, it cannot be taken away.
        await client.SendAsync("a"u8.ToArray());
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.False(stream.TryDetach());
        Assert.Equal(1, await stream.ReadAtLeastAsync(buffer, 1));

        // A pending wait: taken away; the wait then fails even though data arrived, and the data stays in the socket.
        ValueTask<int> wait = stream.ReadAsync(Memory<byte>.Empty);
        Assert.False(wait.IsCompleted);
        Assert.True(stream.TryDetach());
        await client.SendAsync("bc"u8.ToArray());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await wait);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await stream.ReadAtLeastAsync(buffer, 1));

        stream.Attach(server);
        Assert.Equal(2, await stream.ReadAtLeastAsync(buffer, 2).AsTask().WaitAsync(Wait.DefaultDeadline));
        Assert.Equal("bc", System.Text.Encoding.ASCII.GetString(buffer, 0, 2));
    }

    [SkippableFact]
    public async Task DetachedTlsSession_WithItsBuffersReleased_GoesOnOverTheSocketItIsGiven()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "OpenSSL's memory BIOs are released on Linux only");
        SocketStream? inner = null;
        using TlsPair pair = await TlsPair.HandshakeAsync(socket => inner = new SocketStream(socket));
        (SslStream stream, TlsClient client, Socket serverSocket) = (pair.Server, pair.Client, pair.ServerSocket);
        var transport = new TlsTransport(inner!, stream);
        Assert.True(transport.CanPark);
        var buffer = new byte[16];

        // Parked while waiting: the wait fails, disposing the transport leaves the session open.
        ValueTask waiting = transport.WaitForDataAsync();
        Assert.False(waiting.IsCompleted);
        DetachedTls? detached = transport.TryDetach();
        Assert.NotNull(detached);
        await client.Stream.WriteAsync("ping"u8.ToArray());
        await Assert.ThrowsAnyAsync<IOException>(async () => await waiting);
        transport.Dispose();
        detached.Trim();

        // Resumed (over the same socket here; the host gives it a new one over the same connection).
        using TlsTransport resumed = detached.Resume(serverSocket);
        Assert.Equal(4, await resumed.ReceiveAsync(buffer).AsTask().WaitAsync(Wait.DefaultDeadline));
        Assert.Equal("ping", System.Text.Encoding.ASCII.GetString(buffer, 0, 4));
        await resumed.SendAsync(new byte[40_000]);
        int total = 0;
        while (total < 40_000)
        {
            total += await client.Stream.ReadAsync(new byte[16384]).AsTask().WaitAsync(Wait.DefaultDeadline);
        }

        Assert.Equal(40_000, total);
        Assert.Null(new TlsTransport(serverSocket, stream).TryDetach());
    }

    private static async Task<(Socket Server, Socket Client)> ConnectedPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<Socket> accepted = listener.AcceptSocketAsync();
        Socket client = await SocketExtensions.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        return (await accepted, client);
    }

    /// <summary>A server-side TLS session over a stream of the test's choosing, handshaken with a .NET client over loopback.</summary>
    private sealed class TlsPair : IDisposable
    {
        private readonly List<IDisposable> _owned = [];

        public required SslStream Server { get; init; }

        public required Socket ServerSocket { get; init; }

        public required TlsClient Client { get; init; }

        public static async Task<TlsPair> HandshakeAsync(Func<Socket, Stream> innerOf)
        {
            var folder = new TempDirectory();
            var pki = new TestPki(folder.Path);
            IssuedCertificate issued = pki.Issue("server", "server.test");
            var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(issued.CertPath, issued.KeyPath);
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            Task<Socket> accepted = listener.AcceptSocketAsync();
            TlsClient client = await ConnectLaterAsync((IPEndPoint)listener.LocalEndpoint);
            Socket serverSocket = await accepted;
            var server = new SslStream(innerOf(serverSocket));
            Task handshake = server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate });
            await client.Handshake;
            await handshake;
            var pair = new TlsPair { Server = server, ServerSocket = serverSocket, Client = client };
            pair._owned.AddRange([client, serverSocket, certificate, pki, folder]);
            return pair;
        }

        public void Dispose() => _owned.ForEach(o => o.Dispose());
    }

    private sealed record TlsClient(SslStream Stream, Task Handshake) : IDisposable
    {
        public void Dispose() => Stream.Dispose();
    }

    private static async Task<TlsClient> ConnectLaterAsync(System.Net.IPEndPoint endPoint)
    {
        System.Net.Sockets.Socket socket = await SocketExtensions.ConnectAsync(endPoint);
        var stream = new SslStream(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
        Task handshake = stream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "server.test",
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        return new TlsClient(stream, handshake);
    }
}
