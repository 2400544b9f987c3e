namespace PluginProxy.Host.Scripting;

/// <summary>
/// Compiled scripts on disk, by a hash of their sources and toolchain, so that a restart does not compile unchanged
/// scripts again. Writes are atomic (a temporary file renamed into place), so concurrent processes can share the folder.
/// </summary>
internal sealed class ScriptCache(string directory)
{
    public string Directory { get; } = directory;

    public static string DefaultDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string root = !string.IsNullOrEmpty(xdg) ? xdg : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache") : Path.GetTempPath();
        return Path.Combine(root, "pluginproxy", "scripts");
    }

    public byte[]? TryRead(string key)
    {
        try
        {
            return File.ReadAllBytes(Path.Combine(Directory, key + ".dll"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Write(string key, byte[] image)
    {
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            string target = Path.Combine(Directory, key + ".dll");
            string temporary = target + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllBytes(temporary, image);
            File.Move(temporary, target, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be written only costs a compilation at the next start.
        }
    }
}
