using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Admin;

/// <summary><c>admin_token_file</c> is refused at load, at its key, unless it holds a usable token only its owner can use.</summary>
public class AdminTokenFileTests
{
    private static ConfigException Refused(TempDirectory directory, string global)
    {
        string path = directory.Write("proxy.toml", $$"""
            [global]
            {{global}}

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            backend = "app"

            [[backend]]
            name = "app"
            servers = [{ name = "a", address = "127.0.0.1:9" }]
            """);
        return Assert.Throws<ConfigException>(() => ConfigMaterializer.Load(path));
    }

    private static string Write(TempDirectory directory, string content, UnixFileMode mode)
    {
        string path = directory.Write("admin.token", content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }

        return path;
    }

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Theory]
    [InlineData("", "is empty; put a random token in it: openssl rand -hex 32 >")]
    [InlineData("  \n", "is empty")]
    [InlineData("short-token\n", "has 11 characters; use at least 16 random ones")]
    [InlineData("two words in one token\n", "must be one line of letters, digits and - . _ ~ + /")]
    [InlineData("line-one-is-long-enough\nline-two\n", "must be one line of letters")]
    public void TokenThatCannotBeUsed_IsRefusedAtTheKey(string content, string expected)
    {
        using var directory = new TempDirectory();
        Write(directory, content, Private);

        ConfigError error = Assert.Single(Refused(directory, "admin = \"127.0.0.1:0\"\nadmin_token_file = \"admin.token\"").Errors);

        Assert.Equal(3, error.Where.Line);
        Assert.Equal(20, error.Where.Column);
        Assert.StartsWith("`admin_token_file`: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void TokenFileOthersCanRead_IsRefused_SayingHowToMakeItPrivate()
    {
        using var directory = new TempDirectory();
        string token = Write(directory, "0123456789abcdef0123456789abcdef\n", Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        ConfigError error = Assert.Single(Refused(directory, "admin = \"127.0.0.1:0\"\nadmin_token_file = \"admin.token\"").Errors);

        Assert.Equal($"`admin_token_file`: {token} can be used by other users (mode 644): anyone who can read it can reload the proxy; make it private with: chmod 600 {token}", error.Message);
    }

    [Fact]
    public void MissingTokenFile_IsRefused_SayingHowToMakeOne()
    {
        using var directory = new TempDirectory();
        string token = Path.Combine(directory.Path, "admin.token");

        ConfigError error = Assert.Single(Refused(directory, "admin = \"127.0.0.1:0\"\nadmin_token_file = \"admin.token\"").Errors);

        Assert.StartsWith($"`admin_token_file`: cannot read {token}: ", error.Message);
        Assert.EndsWith($"; create it with: openssl rand -hex 32 > {token} && chmod 600 {token}", error.Message);
    }

    [Fact]
    public void TokenFileWithoutAnAdminEndpoint_IsRefused()
    {
        using var directory = new TempDirectory();
        Write(directory, "0123456789abcdef0123456789abcdef\n", Private);

        ConfigError error = Assert.Single(Refused(directory, "admin_token_file = \"admin.token\"").Errors);

        Assert.Equal("`admin_token_file` has no use without `admin`: set `admin` (for example \"127.0.0.1:8404\") or remove it", error.Message);
    }

    [Fact]
    public void PrivateTokenFile_IsRead_WithoutItsNewline()
    {
        using var directory = new TempDirectory();
        Write(directory, "0123456789abcdef0123456789abcdef==\n", Private | UnixFileMode.GroupRead);
        string path = directory.Write("proxy.toml", """
            [global]
            admin = "127.0.0.1:0"
            admin_token_file = "admin.token"

            [[listener]]
            name = "web"
            bind = ["127.0.0.1:0"]
            supervisor = "http"
            """);

        // Parsing only names the file; materialising reads it.
        Assert.Null(ConfigLoader.Load(path).Global.AdminToken);
        using MaterializedConfig materialized = ConfigMaterializer.Load(path);
        Assert.Equal("0123456789abcdef0123456789abcdef==", materialized.Config.Global.AdminToken);
    }
}
