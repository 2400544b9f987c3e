using System.Security.Cryptography.X509Certificates;
using PluginProxy.Host.Tls;
using PluginProxy.Host.Watching;
using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// What step 2 (<see cref="ConfigMaterializer"/>) built from a checked configuration: the configuration carrying its
/// loaded files (<see cref="Config"/>), and the resources behind them — the listeners' certificates and the servers'
/// CA certificates. Whoever materialised it ends it exactly once: <see cref="Dispose"/> when the configuration is
/// refused (a later step failed: a plugin, a script, a bind), <see cref="RetireAsync"/> when a newer one replaced it.
/// </summary>
internal sealed class MaterializedConfig : IDisposable
{
    private readonly IReadOnlyList<ListenerCertificates> _certificates;
    private readonly IReadOnlyList<X509Certificate2Collection> _authorities;
    private int _ended;

    public MaterializedConfig(ProxyConfig config, IReadOnlyList<ListenerCertificates> certificates, IReadOnlyList<X509Certificate2Collection> authorities)
    {
        Config = config;
        _certificates = certificates;
        _authorities = authorities;
    }

    /// <summary>The configuration with its certificates, CA files and admin token loaded.</summary>
    public ProxyConfig Config { get; }

    /// <summary>The certificates of each TLS listener, in configuration order.</summary>
    public IReadOnlyList<ListenerCertificates> Certificates => _certificates;

    /// <summary>True once disposed or retired.</summary>
    public bool IsEnded => Volatile.Read(ref _ended) != 0;

    /// <summary>True once disposed (refused): nothing it loaded is in use any more.</summary>
    public bool IsDisposed => Volatile.Read(ref _ended) == 2;

    /// <summary>With hot reload, a changed certificate or key file is loaded again (and refused with a log line if broken).</summary>
    public void WatchCertificates(FileWatchService watching, ILogger log)
    {
        foreach (ListenerCertificates certificates in _certificates)
        {
            certificates.Watch(watching, log);
        }
    }

    /// <summary>
    /// The configuration was refused: nothing served with it. The certificates are released (disposed once the
    /// pipelines built on them are retired, which the caller does first) and the CA certificates disposed now.
    /// </summary>
    public void Dispose()
    {
        // A refused configuration never started watching its files (that starts once it is applied).
        if (Interlocked.CompareExchange(ref _ended, 2, 0) == 0)
        {
            ReleaseCertificates();
            foreach (X509Certificate2Collection authorities in _authorities)
            {
                foreach (X509Certificate2 certificate in authorities)
                {
                    certificate.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// A newer configuration replaced this one: its certificates are no longer watched, and are disposed when the last
    /// pipeline (so the last session) holding them ends. The CA certificates are left to the collector, since a server
    /// kept across the reload goes on connecting with the verification it was built with.
    /// </summary>
    public async Task RetireAsync()
    {
        if (Interlocked.CompareExchange(ref _ended, 1, 0) != 0)
        {
            return;
        }

        // No reload of the files may start on certificates being let go.
        foreach (ListenerCertificates certificates in _certificates)
        {
            await certificates.StopWatchingAsync().ConfigureAwait(false);
        }

        ReleaseCertificates();
    }

    private void ReleaseCertificates()
    {
        foreach (ListenerCertificates certificates in _certificates)
        {
            certificates.Retire();
        }
    }
}
