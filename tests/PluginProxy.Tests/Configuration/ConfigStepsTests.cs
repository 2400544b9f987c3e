using System.Net.Sockets;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Tls;
using PluginProxy.Tests.Https;
using PluginProxy.Tests.Infrastructure;
using PluginProxy.Tests.Reload;

namespace PluginProxy.Tests.Configuration;

/// <summary>
/// A configuration is loaded in two steps: parsing reads proxy.toml only; materialising loads the files it names and
/// hands back what it built, which is disposed when the configuration is refused and retired when it is replaced.
/// </summary>
public class ConfigStepsTests
{
    private static string SpotOf(string path, string text)
    {
        string[] lines = File.ReadAllLines(path);
        int line = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        Assert.True(line >= 0, $"{text} is not in {path}");
        return $"{path}:{line + 1}:{lines[line].IndexOf(text, StringComparison.Ordinal) + 1}";
    }

    [Fact]
    public void Parsing_ReadsNoFileItNames_MaterialisingReportsEachAtTheKeyThatNamedIt()
    {
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", """
            [global]
            admin = "127.0.0.1:0"
            admin_token_file = "missing.token"

            [[listener]]
            name = "secure"
            bind = ["127.0.0.1:0"]
            supervisor = "https"
            backend = "app"

            [listener.tls]
            certificates = [{ cert = "missing.pem", key = "missing.key" }]

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9", tls = true, verify = "missing-ca.pem" }]
            """);

        // Step 1: no error, nothing loaded — only where the files are and where they are named.
        ProxyConfig parsed = ConfigLoader.Load(path);
        ListenerConfig listener = Assert.Single(parsed.Listeners);
        Assert.Null(listener.Settings.Tls);
        Assert.Equal(Path.Combine(directory.Path, "missing.pem"), Assert.Single(listener.TlsFiles!.Certificates).CertPath);
        ServerConfig server = Assert.Single(Assert.Single(parsed.Backends).Servers);
        Assert.Null(server.Tls);
        Assert.Equal(Path.Combine(directory.Path, "missing-ca.pem"), server.TlsFiles!.Verify);
        Assert.Null(parsed.Global.AdminToken);
        Assert.Equal(SpotOf(path, "[{ cert"), listener.ValueSpots["tls.certificates"].ToString());
        Assert.Equal(SpotOf(path, "[{ name"), Assert.Single(parsed.Backends).ValueSpots["servers"].ToString());

        // Step 2: every file that cannot be loaded, at the key that named it.
        var errors = new List<ConfigError>();
        using MaterializedConfig materialized = ConfigMaterializer.Materialize(parsed, errors);
        string[] problems = ConfigLoader.InFileOrder(errors).Select(e => e.ToString()).ToArray();
        Assert.Equal(3, problems.Length);
        Assert.StartsWith($"{SpotOf(path, "\"missing.token\"")}: `admin_token_file`: cannot read ", problems[0]);
        Assert.StartsWith($"{SpotOf(path, "\"missing.pem\"")}: ", problems[1]);
        Assert.Contains("no such file", problems[1]);
        Assert.StartsWith($"{SpotOf(path, "\"missing-ca.pem\"")}: server `verify`: cannot read the CA file ", problems[2]);
        Assert.Empty(materialized.Certificates);
    }

    [Fact]
    public void Materialising_LoadsTheCertificates_IntoACopy_AndDisposingReleasesThem()
    {
        using var certificates = new HttpsTests.Certificates();
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", certificates.Config("127.0.0.1:9"));
        ProxyConfig parsed = ConfigLoader.Load(path);

        MaterializedConfig materialized = ConfigMaterializer.Materialize(parsed);

        Assert.Null(Assert.Single(parsed.Listeners).Settings.Tls);
        var loaded = Assert.IsType<ListenerCertificates>(Assert.Single(materialized.Config.Listeners).Settings.Tls?.Certificates);
        Assert.Same(loaded, Assert.Single(materialized.Certificates));
        Assert.Equal(3, loaded.Describe().Count);
        Assert.False(loaded.IsReleased);

        materialized.Dispose();

        Assert.True(materialized.IsDisposed);
        Assert.True(loaded.IsReleased);
    }

    [Fact]
    public async Task RefusedReload_DisposesWhatItMaterialised_ForABindFailureAndForAPluginError()
    {
        using var certificates = new HttpsTests.Certificates();
        await using var origin = HttpOrigin.Echo();
        using Socket taken = ReloadTestKit.ListenElsewhere();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));
        var running = (ListenerCertificates)proxy.Host.FindListener("tls")!.Pipeline.Settings.Tls!.Certificates;
        var materialized = new List<MaterializedConfig>();
        proxy.Host.ReloadMaterialized += materialized.Add;

        // The certificates load, then the new address cannot be bound.
        string takenAddress = $"127.0.0.1:{ReloadTestKit.PortOf(taken)}";
        IReadOnlyList<string> unbound = await proxy.ReloadWithAsync(certificates.Config(origin.Address).Replace("127.0.0.1:0", takenAddress));
        Assert.Contains("cannot bind", Assert.Single(unbound));

        // The certificates load, then an analyzer is not provided by any plugin.
        IReadOnlyList<string> unknown = await proxy.ReloadWithAsync(certificates.Config(origin.Address, listenerExtra: "request_analyzers = [\"no_such_analyzer\"]"));
        Assert.Contains("no_such_analyzer", Assert.Single(unknown));

        Assert.Equal(2, materialized.Count);
        foreach (MaterializedConfig refused in materialized)
        {
            Assert.True(refused.IsDisposed);
            Assert.True(Assert.Single(refused.Certificates).IsReleased);
        }

        Assert.False(running.IsReleased);
        Assert.Same(running, proxy.Host.FindListener("tls")!.Pipeline.Settings.Tls!.Certificates);
    }

    [Fact]
    public async Task AcceptedReload_RetiresThePreviousConfiguration_ItsCertificatesReleasedWhenNoPipelineHoldsThem()
    {
        using var certificates = new HttpsTests.Certificates();
        await using var origin = HttpOrigin.Echo();
        await using RunningProxy proxy = await RunningProxy.StartAsync(certificates.Config(origin.Address));
        var before = (ListenerCertificates)proxy.Host.FindListener("tls")!.Pipeline.Settings.Tls!.Certificates;
        MaterializedConfig? next = null;
        proxy.Host.ReloadMaterialized += m => next = m;

        Assert.Empty(await proxy.ReloadWithAsync(certificates.Config(origin.Address, tlsExtra: "strict_sni = true")));

        Assert.False(next!.IsEnded);
        var after = (ListenerCertificates)proxy.Host.FindListener("tls")!.Pipeline.Settings.Tls!.Certificates;
        Assert.Same(Assert.Single(next.Certificates), after);
        Assert.False(after.IsReleased);
        await Wait.UntilAsync(() => before.IsReleased, "the replaced certificates released once their pipeline is");
    }
}
