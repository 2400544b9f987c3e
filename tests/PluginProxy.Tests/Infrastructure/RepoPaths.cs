namespace PluginProxy.Tests.Infrastructure;

/// <summary>Paths in the repository the tests run from.</summary>
internal static class RepoPaths
{
    public static readonly string Root = FindRoot();

    public static string PluginsBin => Path.Combine(Root, "plugins", "bin");

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
