using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using PluginProxy.Abstractions;
using PluginProxy.Host.Tls;

namespace PluginProxy.Host.Configuration;

/// <summary>
/// Step 2 of loading a configuration: loads the files a checked <see cref="ProxyConfig"/> names — listener
/// certificates (with their server-side TLS contexts), servers' CA files, the admin token — and returns them as a
/// <see cref="MaterializedConfig"/>. Every file that cannot be used is reported at the key that named it; what did load
/// is still returned, so that <c>check</c> reports everything in one pass and the caller disposes it.
/// </summary>
internal static class ConfigMaterializer
{
    /// <summary>Materialises <paramref name="parsed"/>, adding each problem to <paramref name="errors"/>.</summary>
    public static MaterializedConfig Materialize(ProxyConfig parsed, List<ConfigError> errors)
    {
        var certificates = new List<ListenerCertificates>();
        var authorities = new List<X509Certificate2Collection>();
        var listeners = parsed.Listeners.Select(l => WithCertificates(l, certificates, errors)).ToList();
        var backends = parsed.Backends.Select(b => b with { Servers = b.Servers.Select(s => WithTls(s, authorities, errors)).ToList() }).ToList();
        GlobalConfig global = parsed.Global.AdminTokenFile is { } tokenFile
            ? parsed.Global with { AdminToken = AdminKeys.ReadToken(tokenFile, errors) }
            : parsed.Global;
        var stores = parsed.Stores.Select(s => StoreKeys.WithPassword(s, errors)).ToList();
        return new MaterializedConfig(parsed with { Global = global, Listeners = listeners, Backends = backends, Stores = stores }, certificates, authorities);
    }

    /// <summary>Materialises a configuration whose files all load.</summary>
    /// <exception cref="ConfigException">Some file cannot be used (every such error); what did load is disposed.</exception>
    public static MaterializedConfig Materialize(ProxyConfig parsed)
    {
        var errors = new List<ConfigError>();
        MaterializedConfig materialized = Materialize(parsed, errors);
        if (errors.Count == 0)
        {
            return materialized;
        }

        materialized.Dispose();
        throw new ConfigException(ConfigLoader.InFileOrder(errors));
    }

    /// <summary>
    /// Parses then materialises <paramref name="path"/>, reporting the errors of both steps together (a file named by a
    /// key that has errors of its own is still loaded, when it can be).
    /// </summary>
    /// <exception cref="ConfigException">The file, or a file it names, has errors (all of them, in file order).</exception>
    public static MaterializedConfig Load(string path)
    {
        var errors = new List<ConfigError>();
        ProxyConfig? parsed = ConfigLoader.Read(path, errors);
        if (parsed is null)
        {
            throw new ConfigException(ConfigLoader.InFileOrder(errors));
        }

        MaterializedConfig materialized = Materialize(parsed, errors);
        if (errors.Count == 0)
        {
            return materialized;
        }

        materialized.Dispose();
        throw new ConfigException(ConfigLoader.InFileOrder(errors));
    }

    private static ListenerConfig WithCertificates(ListenerConfig listener, List<ListenerCertificates> loaded, List<ConfigError> errors)
    {
        if (listener.TlsFiles is not { } tls
            || ListenerCertificates.Load(listener.Name, tls.Certificates, tls.Protocols, tls.StrictSni, errors) is not { } certificates)
        {
            return listener;
        }

        loaded.Add(certificates);
        var settings = new TlsSettings
        {
            Certificates = certificates,
            StrictSni = tls.StrictSni,
            Protocols = tls.Protocols,
        };
        return listener with { Settings = listener.Settings with { Tls = settings } };
    }

    private static ServerConfig WithTls(ServerConfig server, List<X509Certificate2Collection> loaded, List<ConfigError> errors)
    {
        if (server.TlsFiles is not { } tls)
        {
            return server;
        }

        X509Certificate2Collection? authorities = null;
        if (tls.HasCaFile)
        {
            authorities = LoadAuthorities(tls, errors);
            if (authorities is null)
            {
                return server;
            }

            loaded.Add(authorities);
        }

        return server with { Tls = ServerTls.Create(tls.TargetHost, tls.Verify, authorities, server.Protocol == ServerProtocol.Http2) };
    }

    /// <summary>The certificates of a server's CA file, or null when it cannot be used (reported at <c>verify</c>).</summary>
    private static X509Certificate2Collection? LoadAuthorities(ServerTlsFiles tls, List<ConfigError> errors)
    {
        string caFile = tls.Verify;
        SourceSpot spot = tls.VerifySpot!.Value;
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            errors.Add(new ConfigError(spot, $"server `verify`: cannot read the CA file {caFile}: {ex.Message}"));
            foreach (X509Certificate2 partial in authorities)
            {
                partial.Dispose();
            }

            return null;
        }

        if (authorities.Count == 0)
        {
            errors.Add(new ConfigError(spot, $"server `verify`: {caFile} holds no PEM certificate; give a CA file, \"system\" or \"none\""));
            return null;
        }

        return authorities;
    }
}
