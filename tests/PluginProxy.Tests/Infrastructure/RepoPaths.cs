namespace PluginProxy.Tests.Infrastructure;

/// <summary>Paths in the repository the tests run from.</summary>
internal static class RepoPaths
{
    public static readonly string Root = FindRoot();

    public static string PluginsBin => Path.Combine(Root, "plugins", "bin");

    /// <summary>The example scripts of the repository.</summary>
    public static string Scripts => Path.Combine(Root, "scripts");

    /// <summary>A script cache shared by the tests (writes are atomic, so parallel tests can share it).</summary>
    public static readonly string ScriptCache = Path.Combine(Path.GetTempPath(), "pluginproxy-tests-script-cache");

    /// <summary>Where the test-only plugins (tests/plugins/*) are built.</summary>
    public static string TestPluginsBin => Path.Combine(Root, "tests", "plugins", "bin");

    /// <summary>The host assembly copied next to the tests (runnable with <c>dotnet pluginproxy.dll</c>).</summary>
    public static string HostAssembly => Path.Combine(AppContext.BaseDirectory, "pluginproxy.dll");

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PluginProxy.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("PluginProxy.sln not found above " + AppContext.BaseDirectory);
    }
}
