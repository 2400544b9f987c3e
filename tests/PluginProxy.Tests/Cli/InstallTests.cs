using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Cli;

/// <summary>The install the README describes: <c>dotnet publish host -o DIR</c>, then DIR/pluginproxy with a configuration kept anywhere.</summary>
public class InstallTests
{
    [Fact]
    public async Task PublishedProxy_CarriesTheBuiltInPlugins_AndRunsTheDefaultConfigurationKeptOutsideTheClone()
    {
        using var install = new TempDirectory();
        using var etc = new TempDirectory();
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        // --no-build: the host and plugins this test run was built with are what gets installed.
        (int published, string publishOutput) = await Tools.RunAsync("dotnet",
            ["publish", Path.Combine(RepoPaths.Root, "host"), "-c", configuration, "--no-build", "-o", install.Path, "-nologo"], deadline: TimeSpan.FromMinutes(3));
        Assert.True(published == 0, publishOutput);
        string config = Path.Combine(etc.Path, "proxy.toml");
        File.Copy(Path.Combine(RepoPaths.Root, "proxy.toml"), config);

        (int code, string output) = await Tools.RunAsync(Path.Combine(install.Path, "pluginproxy"), ["check", "--config", config], deadline: TimeSpan.FromMinutes(1));

        Assert.Equal(["PluginProxy.Http", "PluginProxy.Https", "PluginProxy.Tcp"],
            Directory.EnumerateDirectories(Path.Combine(install.Path, "plugins")).Select(Path.GetFileName).Order());
        Assert.True(code == 0, output);
        Assert.Contains($"{config}: configuration is valid (3 listener(s), 1 backend(s), 3 plugin(s))", output);
    }
}
