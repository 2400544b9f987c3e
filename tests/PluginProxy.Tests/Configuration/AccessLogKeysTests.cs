using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Configuration;

/// <summary>The access log's keys (docs/configuration.md): their defaults, what they bind to, and each wrong value refused at its place.</summary>
public sealed class AccessLogKeysTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static string Toml(string global, string listener = "", string defaults = "") => $$"""
        [global]
        {{global}}

        [defaults]
        {{defaults}}

        [[listener]]
        name = "web"
        bind = ["127.0.0.1:8080"]
        supervisor = "http"
        backend = "app"
        {{listener}}

        [[backend]]
        name = "app"
        servers = [{ name = "a", address = "127.0.0.1:9001" }]
        """;

    private ProxyConfig Parse(string toml) => ConfigLoader.Parse(toml, "proxy.toml", _directory.Path);

    private string Error(string toml) => Assert.Single(Assert.Throws<ConfigException>(() => Parse(toml)).Errors).ToString();

    [Fact]
    public void ByDefault_TextLinesGoToStandardOutput_AndNoHeaderIsCaptured()
    {
        ProxyConfig config = Parse(Toml(""));

        Assert.Equal(AccessLogFormat.Text, config.Global.AccessLog.Format);
        Assert.Equal(AccessLogTarget.Stdout, config.Global.AccessLog.Target);
        Assert.True(Assert.Single(config.Listeners).Capture.IsEmpty);
    }

    [Fact]
    public void EachTarget_IsBound()
    {
        AccessLogTarget Target(string text) => Parse(Toml($"access_log_target = \"{text}\"")).Global.AccessLog.Target;

        Assert.Equal(AccessLogTargetKind.Stderr, Target("stderr").Kind);
        Assert.Equal(new AccessLogTarget(AccessLogTargetKind.File, Path.Combine(_directory.Path, "access.log")), Target("access.log"));
        Assert.Equal(new AccessLogTarget(AccessLogTargetKind.SyslogUdp, EndPoint: new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 514)), Target("udp://127.0.0.1"));
        Assert.Equal(5514, Target("udp://[::1]:5514").EndPoint!.Port);
        Assert.Equal(new AccessLogTarget(AccessLogTargetKind.SyslogUnix, "/dev/log"), Target("unix:///dev/log"));
        ProxyConfig syslog = Parse(Toml("access_log_format = \"json\"\naccess_log_target = \"udp://127.0.0.1:514\"\naccess_log_facility = \"daemon\""));
        Assert.Equal((AccessLogFormat.Json, 3), (syslog.Global.AccessLog.Format, syslog.Global.AccessLog.Facility));
        Assert.Equal(16, Parse(Toml("access_log_target = \"unix:///dev/log\"")).Global.AccessLog.Facility);
    }

    [Fact]
    public void AFormatThatIsNeitherTextNorJson_IsRefusedAtItsValue()
    {
        Assert.Equal("proxy.toml:2:21: `access_log_format`: \"xml\" is not a format; use \"text\" (the HAProxy-like line) or \"json\" (one JSON object per line)",
            Error(Toml("access_log_format = \"xml\"")));
    }

    [Theory]
    [InlineData("", "an empty target; use \"stdout\", \"stderr\", a file path, \"udp://host:port\" or \"unix:///dev/log\"")]
    [InlineData("tcp://127.0.0.1:514", "\"tcp://127.0.0.1:514\" is not a target this proxy can write to; use \"stdout\", \"stderr\", a file path, \"udp://host:port\" or \"unix:///dev/log\"")]
    [InlineData("udp://127.0.0.1:99999", "\"127.0.0.1:99999\" has an invalid port \"99999\"; a port is a number from 1 to 65535 (a syslog server is \"udp://127.0.0.1:514\"; the port defaults to 514)")]
    [InlineData("udp://300.1.1.1:514", "\"300.1.1.1:514\" has an invalid host \"300.1.1.1\" (a syslog server is \"udp://127.0.0.1:514\"; the port defaults to 514)")]
    [InlineData("unix://dev/log", "\"unix://dev/log\" does not name an absolute socket path; write three slashes: \"unix:///dev/log\"")]
    [InlineData("missing/access.log", "the folder {dir}/missing does not exist; create it (writable by the proxy's user) or choose another path")]
    [InlineData(".", "{dir} is a folder; name a file in it, such as {dir}/access.log")]
    public void ATargetThatNamesNoUsableDestination_IsRefusedAtItsValue(string target, string problem)
    {
        Assert.Equal($"proxy.toml:2:21: `access_log_target`: {problem.Replace("{dir}", _directory.Path)}", Error(Toml($"access_log_target = \"{target}\"")));
    }

    [Fact]
    public void AFacility_MustBeASyslogOne_AndNeedsASyslogTarget()
    {
        Assert.Equal("proxy.toml:3:23: `access_log_facility`: \"locl0\" is not a syslog facility; did you mean \"local0\"?",
            Error(Toml("access_log_target = \"udp://127.0.0.1:514\"\naccess_log_facility = \"locl0\"")));
        Assert.Equal("proxy.toml:2:23: `access_log_facility` has no use unless `access_log_target` is syslog (\"udp://127.0.0.1:514\" or \"unix:///dev/log\"); set such a target or remove it",
            Error(Toml("access_log_facility = \"local0\"")));
        Assert.StartsWith("proxy.toml:3:23: `access_log_facility` has no use",
            Error(Toml("access_log_target = \"stdout\"\naccess_log_facility = \"local0\"")));
    }

    [Fact]
    public void CapturedHeaders_AreNamesOrNameAndLength_AndAListenerInheritsEachListFromDefaults()
    {
        ProxyConfig config = Parse(Toml("",
            listener: "capture_request_headers = [\"Host\", { name = \"User-Agent\", len = 64 }]",
            defaults: "capture_request_headers = [\"X-Ignored\"]\ncapture_response_headers = [\"Content-Type\"]"));

        HeaderCapture capture = Assert.Single(config.Listeners).Capture;
        Assert.Equal([("Host", 128), ("User-Agent", 64)], capture.Request.Select(h => (h.Name, h.Length)));
        Assert.Equal([("Content-Type", 128)], capture.Response.Select(h => (h.Name, h.Length)));
        Assert.True(Parse(Toml("", listener: "capture_request_headers = []")).Listeners[0].Capture.IsEmpty);
    }

    [Theory]
    [InlineData("capture_request_headers = \"Host\"", "12:27", "`capture_request_headers` must be a list of header names such as [\"Host\", { name = \"User-Agent\", len = 64 }], not a string")]
    [InlineData("capture_request_headers = [42]", "12:28", "`capture_request_headers` must hold header names (\"Host\") or tables ({ name = \"Host\", len = 64 }), not an integer")]
    [InlineData("capture_request_headers = [\"User Agent\"]", "12:28", "`capture_request_headers`: \"User Agent\" is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)")]
    [InlineData("capture_request_headers = [\"Host\", \"host\"]", "12:36", "`capture_request_headers`: \"host\" is listed twice")]
    [InlineData("capture_response_headers = [{ name = \"Server\", len = 0 }]", "12:54", "`capture_response_headers`: `len` must be from 1 to 1024 bytes, not 0")]
    [InlineData("capture_response_headers = [{ name = \"Server\", len = \"64\" }]", "12:54", "`capture_response_headers`: `len` must be an integer (bytes kept of the value), not a string")]
    [InlineData("capture_response_headers = [{ len = 64 }]", "12:29", "`capture_response_headers`: a header needs `name`, for example { name = \"User-Agent\", len = 64 }")]
    [InlineData("capture_response_headers = [{ name = \"Server\", lem = 64 }]", "12:48", "unknown key `lem` in a header of `capture_response_headers`; did you mean `len`?")]
    public void AWrongCapture_IsRefusedAtItsPlace(string key, string where, string message)
    {
        Assert.Equal($"proxy.toml:{where}: {message}", Error(Toml("", listener: key)));
    }

    [Fact]
    public void AWrongCaptureInDefaults_IsRefusedThere()
    {
        Assert.Equal("proxy.toml:5:28: `capture_request_headers`: \"\" is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)",
            Error(Toml("", defaults: "capture_request_headers = [\"\"]")));
    }

    public void Dispose() => _directory.Dispose();
}
