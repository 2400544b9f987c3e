using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// A stub HTTPS origin: completes a TLS handshake with the given certificate, records the server name each client asked
/// for, and answers every GET with 200 and a body naming the request line and that server name. Keep-alive.
/// </summary>
internal sealed class TlsOrigin : IAsyncDisposable
{
    private readonly StubServer _server;
    private readonly X509Certificate2 _certificate;

    public TlsOrigin(IssuedCertificate certificate)
    {
        _certificate = X509Certificate2.CreateFromPemFile(certificate.CertPath, certificate.KeyPath);
        _server = new StubServer(ServeAsync);
    }

    public string Address => _server.Address;

    /// <summary>The server name of each completed handshake ("" when the client sent none).</summary>
    public ConcurrentQueue<string> ServerNames { get; } = new();

    /// <summary>Handshakes that failed (the client refused the certificate, for one).</summary>
    public ConcurrentQueue<Exception> FailedHandshakes { get; } = new();

    public ConcurrentQueue<string> RequestLines { get; } = new();

    private async Task ServeAsync(Socket socket)
    {
        using var stream = new SslStream(new NetworkStream(socket, ownsSocket: false));
        try
        {
            await stream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate });
        }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or IOException)
        {
            FailedHandshakes.Enqueue(ex);
            return;
        }

        string sni = stream.TargetHostName;
        ServerNames.Enqueue(sni);
        var pending = new List<byte>();
        var chunk = new byte[16384];
        try
        {
            while (true)
            {
                int end;
                while ((end = IndexOfHeadEnd(pending)) < 0)
                {
                    int n = await stream.ReadAsync(chunk);
                    if (n == 0)
                    {
                        return;
                    }

                    pending.AddRange(chunk.AsSpan(0, n));
                }

                string head = Encoding.Latin1.GetString(pending.GetRange(0, end).ToArray());
                pending.RemoveRange(0, end + 4);
                string requestLine = head[..head.IndexOf('\r')];
                RequestLines.Enqueue(requestLine);
                string body = $"tls origin: {requestLine} sni={sni}\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
            }
        }
        catch (IOException)
        {
            // The proxy closed the connection.
        }
    }

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (int i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _certificate.Dispose();
    }
}
