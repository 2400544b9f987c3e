using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace PluginProxy.Tests.Grpc;

/// <summary>
/// Makes gRPC client channels for the tests: to a <see cref="GrpcOrigin"/> directly, or to anything else that should
/// speak gRPC (a proxy listener), by address alone.
/// </summary>
internal static class GrpcClients
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A channel to <paramref name="address"/>: <c>http://host:port</c> speaks HTTP/2 without TLS (prior knowledge: the
    /// client sends the connection preface at once); <c>https://host:port</c> speaks HTTP/2 over TLS (ALPN <c>h2</c>),
    /// trusting <paramref name="trusted"/> as the root when given (else the machine's roots). Connecting gives up after
    /// five seconds. The caller disposes the channel, which disposes its connections.
    /// </summary>
    public static GrpcChannel CreateChannel(Uri address, X509Certificate2? trusted = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = ConnectTimeout,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        };
        if (trusted is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusts(trusted, certificate, errors);
        }

        // Grpc.Net.Client sends every request as HTTP/2 with RequestVersionExact: over http:// that is h2c with prior knowledge.
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    /// <summary>A channel to <paramref name="address"/>, given as a URI (<c>http://…</c>, <c>https://…</c>) or as <c>host:port</c> (h2c).</summary>
    public static GrpcChannel CreateChannel(string address, X509Certificate2? trusted = null)
        => CreateChannel(new Uri(address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address), trusted);

    private static bool Trusts(X509Certificate2 trusted, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (presented is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            // No certificate, or a name that does not match: not rescued by trusting another root.
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using X509Certificate2 leaf = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        return chain.Build(leaf);
    }
}
