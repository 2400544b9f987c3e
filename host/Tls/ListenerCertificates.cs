using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;
using PluginProxy.Host.Watching;

namespace PluginProxy.Host.Tls;

/// <summary>One <c>{ cert, key }</c> entry of <c>[listener.tls] certificates</c>, with absolute paths.</summary>
internal sealed record CertificateFiles(string CertPath, string KeyPath, SourceSpot Spot);

/// <summary>A certificate file that cannot be used; the message names the file and says why.</summary>
internal sealed class CertificateException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The certificates of one TLS listener, loaded from PEM files and chosen by SNI: exact names first, then wildcards
/// (<c>*.example.com</c> covers one label), else the first certificate unless <c>strict_sni</c>. With hot reload the
/// files are watched: a changed certificate or key serves the next handshakes once it loads cleanly; a broken one is
/// refused with a logged error and the previous certificates stay. Reference-counted: the configuration that loaded them
/// holds one reference (<see cref="RefCounted.Retire"/> when it is refused or replaced) and each pipeline built on them
/// another, so the certificates are disposed once nothing can hand them to a handshake any more.
/// </summary>
internal sealed class ListenerCertificates : RefCounted, ITlsCertificates
{
    /// <summary>A certificate and its key are often written one after the other: both must be in place before they are read.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private readonly string _listener;
    private readonly IReadOnlyList<CertificateFiles> _files;
    private readonly SslProtocols _protocols;
    private readonly bool _strictSni;
    private volatile Snapshot _current;
    private FileWatch? _watch;

    private ListenerCertificates(string listener, IReadOnlyList<CertificateFiles> files, SslProtocols protocols, bool strictSni, Snapshot first)
    {
        _listener = listener;
        _files = files;
        _protocols = protocols;
        _strictSni = strictSni;
        _current = first;
    }

    /// <summary>Loads every certificate; each one that cannot be used is reported at its entry (then none is kept).</summary>
    public static ListenerCertificates? Load(string listener, IReadOnlyList<CertificateFiles> files, SslProtocols protocols, bool strictSni, List<ConfigError> errors)
    {
        var loaded = new List<LoadedCertificate>();
        foreach (CertificateFiles entry in files)
        {
            try
            {
                loaded.Add(LoadOne(entry, protocols));
            }
            catch (CertificateException ex)
            {
                errors.Add(new ConfigError(entry.Spot, ex.Message));
            }
        }

        if (loaded.Count == files.Count && files.Count > 0)
        {
            return new ListenerCertificates(listener, files, protocols, strictSni, new Snapshot(loaded));
        }

        loaded.ForEach(c => c.Dispose());
        return null;
    }

    /// <summary>What is loaded now: each certificate's subject names and expiry, for logs and the stats page.</summary>
    public IReadOnlyList<(IReadOnlyList<string> Names, DateTime NotAfter, string Thumbprint)> Describe() =>
        _current.Certificates.Select(c => (c.Names, c.NotAfter, c.Thumbprint)).ToList();

    /// <inheritdoc/>
    public SslServerAuthenticationOptions? Select(string? serverName)
    {
        Snapshot current = _current;
        if (!string.IsNullOrEmpty(serverName))
        {
            ReadOnlySpan<char> name = serverName.AsSpan().TrimEnd('.');
            if (current.Exact.TryGetValue(name, out SslServerAuthenticationOptions? exact))
            {
                return exact;
            }

            int dot = name.IndexOf('.');
            if (dot > 0 && current.Wildcards.TryGetValue(name[(dot + 1)..], out SslServerAuthenticationOptions? wildcard))
            {
                return wildcard;
            }
        }

        return _strictSni ? null : current.Default;
    }

    /// <summary>Loads the files again; on success new handshakes use them, on failure the error is logged and nothing changes.</summary>
    /// <returns>True when the new certificates are in use.</returns>
    public bool Reload(ILogger log)
    {
        var loaded = new List<LoadedCertificate>();
        try
        {
            foreach (CertificateFiles entry in _files)
            {
                loaded.Add(LoadOne(entry, _protocols));
            }
        }
        catch (CertificateException ex)
        {
            TlsLog.CertificateRefused(log, _listener, ex.Message);
            return false;
        }

        Snapshot previous = _current;
        if (previous.Certificates.Select(c => c.Thumbprint).SequenceEqual(loaded.Select(c => c.Thumbprint)))
        {
            return false;
        }

        _current = new Snapshot(loaded);
        foreach (LoadedCertificate certificate in loaded.Where(c => previous.Certificates.All(p => p.Thumbprint != c.Thumbprint)))
        {
            TlsLog.CertificateReloaded(log, _listener, string.Join(", ", certificate.Names), certificate.Files.CertPath, certificate.NotAfter);
        }

        return true;
    }

    /// <summary>Follows the certificate and key files: a change (in place, a rename over them, a swapped link) reloads them after 300 ms of quiet.</summary>
    public void Watch(FileWatchService watching, ILogger log)
    {
        _watch = watching.Watch($"certificates of {_listener}", Quiet, _ => Reload(log));
        _watch.Follow(_files.SelectMany(f => new[] { f.CertPath, f.KeyPath }));
    }

    /// <summary>Stops following the files (the certificates stay usable until released).</summary>
    public async ValueTask StopWatchingAsync()
    {
        if (Interlocked.Exchange(ref _watch, null) is { } watch)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>True once the last reference is released and the certificates are disposed.</summary>
    public bool IsReleased => References == 0;

    /// <summary>
    /// Disposes the certificates loaded last; those a hot reload replaced are left to the collector, as a handshake may
    /// still use them. The configuration that loaded them stopped the watching before it let them go.
    /// </summary>
    protected override void OnReleased()
    {
        foreach (LoadedCertificate certificate in _current.Certificates)
        {
            certificate.Dispose();
        }
    }

    private static LoadedCertificate LoadOne(CertificateFiles files, SslProtocols protocols)
    {
        string cert = files.CertPath;
        X509Certificate2 leaf;
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPemFile(cert);
            if (chain.Count == 0)
            {
                throw new CertificateException($"certificate file {cert} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            }

            leaf = X509Certificate2.CreateFromPemFile(cert, files.KeyPath);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CertificateException($"{ex.Message.Replace("Could not find file", "no such file", StringComparison.Ordinal)}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CertificateException($"cannot read {cert} or {files.KeyPath}: {ex.Message}", ex);
        }
        catch (CryptographicException ex)
        {
            throw new CertificateException($"certificate {cert} with key {files.KeyPath} cannot be used: {ex.Message}", ex);
        }
        catch (ArgumentException ex)
        {
            throw new CertificateException($"certificate {cert} with key {files.KeyPath} cannot be used: {ex.Message}", ex);
        }

        if (!leaf.HasPrivateKey)
        {
            throw new CertificateException($"key file {files.KeyPath} holds no private key for {cert}");
        }

        List<string> names = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).ToList();
        if (names.Count == 0 && leaf.GetNameInfo(X509NameType.DnsName, forIssuer: false) is { Length: > 0 } commonName)
        {
            names.Add(commonName);
        }

        var intermediates = new X509Certificate2Collection();
        for (int i = 1; i < chain.Count; i++)
        {
            intermediates.Add(chain[i]);
        }

        // No ApplicationProtocols: ALPN belongs to the supervisor that terminates TLS (it offers its protocols on a copy).
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(leaf, intermediates, offline: true),
            EnabledSslProtocols = protocols,
            ClientCertificateRequired = false,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowRenegotiation = false,
        };
        return new LoadedCertificate(files, names, leaf.NotAfter.ToUniversalTime(), leaf.Thumbprint, options, [leaf, .. chain]);
    }

    private sealed record LoadedCertificate(CertificateFiles Files, IReadOnlyList<string> Names, DateTime NotAfter, string Thumbprint,
        SslServerAuthenticationOptions Options, X509Certificate2[] Handles)
    {
        public void Dispose()
        {
            foreach (X509Certificate2 handle in Handles)
            {
                handle.Dispose();
            }
        }
    }

    /// <summary>One consistent set of certificates and the name indexes built from it.</summary>
    private sealed class Snapshot
    {
        public Snapshot(List<LoadedCertificate> certificates)
        {
            Certificates = certificates;
            Default = certificates[0].Options;
            var exact = new Dictionary<string, SslServerAuthenticationOptions>(StringComparer.OrdinalIgnoreCase);
            var wildcards = new Dictionary<string, SslServerAuthenticationOptions>(StringComparer.OrdinalIgnoreCase);
            foreach (LoadedCertificate certificate in certificates)
            {
                foreach (string name in certificate.Names)
                {
                    // The first certificate listed for a name wins, as the operator ordered them.
                    if (name.StartsWith("*.", StringComparison.Ordinal))
                    {
                        wildcards.TryAdd(name[2..], certificate.Options);
                    }
                    else
                    {
                        exact.TryAdd(name.TrimEnd('.'), certificate.Options);
                    }
                }
            }

            Exact = exact.GetAlternateLookup<ReadOnlySpan<char>>();
            Wildcards = wildcards.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public List<LoadedCertificate> Certificates { get; }

        public SslServerAuthenticationOptions Default { get; }

        public Dictionary<string, SslServerAuthenticationOptions>.AlternateLookup<ReadOnlySpan<char>> Exact { get; }

        public Dictionary<string, SslServerAuthenticationOptions>.AlternateLookup<ReadOnlySpan<char>> Wildcards { get; }
    }
}
