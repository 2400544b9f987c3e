using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Configuration;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Dns;

/// <summary>
/// Servers named by host name, end to end through a stub nameserver on 127.0.0.1: every address of the name takes
/// traffic, a changed answer is followed at the next resolve_interval, a name that stops resolving keeps its last
/// addresses (and says so), SRV records give addresses and ports, and a name that does not resolve at start is refused
/// unless init_addr = "none".
/// </summary>
public class DnsResolutionTests
{
    private static readonly IPAddress Second = IPAddress.Parse("127.0.0.2");

    private static string Config(DnsStub dns, string server, string backendExtra = "resolve_interval = \"100ms\"", string globalExtra = "") => $$"""
        {{RunningProxy.GlobalSection($"admin = \"127.0.0.1:0\"\nresolvers = [\"{dns.Address}\"]\nresolve_timeout = \"1s\"\n{globalExtra}")}}
        [[listener]]
        name = "web"
        bind = ["127.0.0.1:0"]
        supervisor = "http"
        backend = "app"

        [[backend]]
        name = "app"
        servers = [{{server}}]
        {{backendExtra}}
        """;

    /// <summary>Two origins answering with their names on the same port of 127.0.0.1 and 127.0.0.2.</summary>
    private static (HttpOrigin One, HttpOrigin Two) TwoOriginsOnOnePort()
    {
        for (int attempt = 0; ; attempt++)
        {
            HttpOrigin one = HttpOrigin.Named("one");
            try
            {
                return (one, HttpOrigin.Named("two", new IPEndPoint(Second, one.EndPoint.Port)));
            }
            catch (SocketException) when (attempt < 20)
            {
                one.DisposeAsync().AsTask().GetAwaiter().GetResult(); // that port is taken on 127.0.0.2: another one
            }
        }
    }

    private static async Task<List<string>> ServedByAsync(RunningProxy proxy, int count)
    {
        var bodies = new List<string>();
        for (int i = 0; i < count; i++)
        {
            using RawHttp client = await RawHttp.ConnectAsync(proxy);
            await client.SendAsync($"GET /{i} HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response = await client.ReadResponseAsync();
            bodies.Add(response.Status == 200 ? response.BodyText : $"status {response.Status}");
        }

        return bodies;
    }

    private static async Task<JsonElement> DescribeAsync(RunningProxy proxy, string server)
    {
        using var admin = new HttpClient { BaseAddress = new Uri($"http://{proxy.Host.AdminEndPoint}/") };
        using JsonDocument document = JsonDocument.Parse(await admin.GetStringAsync($"/api/backends/app/servers/{server}"));
        return document.RootElement.Clone();
    }

    /// <summary>"path:line:column" of the first <paramref name="text"/> in the file.</summary>
    internal static string At(string path, string text)
    {
        string[] lines = File.ReadAllLines(path);
        int line = Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));
        return $"{path}:{line + 1}:{lines[line].IndexOf(text, StringComparison.Ordinal) + 1}";
    }

    private static Server ServerOf(RunningProxy proxy, string name) => ((Backend)proxy.Host.Backends.Find("app")!).Find(name)!;

    [Fact]
    public async Task EveryAddressTakesTraffic_ChangesAreFollowed_AndANameThatStopsResolvingKeepsItsLastAddresses()
    {
        await using DnsStub dns = new();
        (HttpOrigin one, HttpOrigin two) = TwoOriginsOnOnePort();
        await using HttpOrigin _1 = one;
        await using HttpOrigin _2 = two;
        dns.SetAddresses("app.test", IPAddress.Loopback, Second);
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(dns, $"{{ name = \"a\", address = \"app.test:{one.EndPoint.Port}\" }}"));
        Server server = ServerOf(proxy, "a");

        // Both addresses, in turn, under one server name.
        Assert.Equal([$"127.0.0.1:{one.EndPoint.Port}", $"127.0.0.2:{one.EndPoint.Port}"], server.Addresses.Select(EndPoints.Format));
        List<string> served = await ServedByAsync(proxy, 6);
        Assert.Equal((3, 3), (served.Count(b => b == "one"), served.Count(b => b == "two")));

        // The name now resolves to one address: after the interval, only that one gets traffic.
        dns.SetAddresses("app.test", Second);
        await Wait.UntilAsync(() => server.Addresses.Count == 1, "the new answer to be used");
        Assert.All(await ServedByAsync(proxy, 4), body => Assert.Equal("two", body));
        Assert.Contains(proxy.Logs.Category("PluginProxy.Dns"), l => l.Contains("app.test:") && l.Contains("now resolves to 127.0.0.2:"));

        // NXDOMAIN: traffic goes on to the last addresses, and the runtime API says why.
        int queries = dns.Queries("app.test");
        dns.SetNxDomain("app.test");
        await Wait.UntilAsync(() => server.Resolution!.FailingSince is not null, "the failure to be seen");
        await Wait.UntilAsync(() => dns.Queries("app.test") > queries + 6, "more resolutions that fail");
        Assert.All(await ServedByAsync(proxy, 4), body => Assert.Equal("two", body));
        JsonElement described = await DescribeAsync(proxy, "a");
        string status = described.GetProperty("dns").GetString()!;
        Assert.StartsWith("last resolved at ", status);
        Assert.Contains(", failing since ", status);
        Assert.Contains("NXDOMAIN", status);
        Assert.Equal([$"127.0.0.2:{one.EndPoint.Port}"], described.GetProperty("addresses").EnumerateArray().Select(e => e.GetString()));
        Assert.Single(proxy.Logs.Lines, l => l.Category == "PluginProxy.Dns" && l.Level == LogLevel.Warning && l.Message.Contains("does not resolve any more"));

        // It resolves again: logged once, and both addresses take traffic again.
        dns.SetAddresses("app.test", IPAddress.Loopback, Second);
        await Wait.UntilAsync(() => server.Resolution!.FailingSince is null && server.Addresses.Count == 2, "the name to resolve again");
        Assert.Single(proxy.Logs.Lines, l => l.Category == "PluginProxy.Dns" && l.Message.Contains("resolves again"));
        Assert.StartsWith("resolved at ", (await DescribeAsync(proxy, "a")).GetProperty("dns").GetString());
        Assert.Contains("one", await ServedByAsync(proxy, 4));
    }

    [Fact]
    public async Task SrvRecords_GiveTheAddressesAndPorts_OfTheirLowestPriority()
    {
        await using DnsStub dns = new();
        await using HttpOrigin a = HttpOrigin.Named("a");
        await using HttpOrigin b = HttpOrigin.Named("b");
        await using HttpOrigin fallback = HttpOrigin.Named("fallback");
        dns.SetSrv("_http._tcp.app.test",
            [(10, a.EndPoint.Port, "a.app.test"), (10, b.EndPoint.Port, "b.app.test"), (20, fallback.EndPoint.Port, "c.app.test")],
            glue: new() { ["a.app.test"] = [IPAddress.Loopback] });
        dns.SetAddresses("b.app.test", IPAddress.Loopback); // b's address is asked for: it is not in the additional section
        dns.SetAddresses("c.app.test", IPAddress.Loopback);
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(dns, "{ name = \"s\", address = \"_http._tcp.app.test\", srv = true }"));

        Assert.Equal(new[] { $"127.0.0.1:{a.EndPoint.Port}", $"127.0.0.1:{b.EndPoint.Port}" }.Order(), ServerOf(proxy, "s").Addresses.Select(EndPoints.Format).Order());
        List<string> served = await ServedByAsync(proxy, 4);
        Assert.Equal((2, 2, 0), (served.Count(s => s == "a"), served.Count(s => s == "b"), served.Count(s => s == "fallback")));
        Assert.Equal(0, dns.Queries("a.app.test")); // from the additional section
        Assert.NotEqual(0, dns.Queries("b.app.test"));
    }

    [Fact]
    public async Task ANameThatDoesNotResolveAtStart_IsRefusedAtItsAddress()
    {
        await using DnsStub dns = new();
        using var directory = new TempDirectory();
        string path = directory.Write("proxy.toml", Config(dns, "{ name = \"a\", address = \"missing.test:80\" }"));

        var error = await Assert.ThrowsAsync<StartupException>(() => ProxyHost.BuildAsync(ConfigLoader.Load(path), NullLoggerFactory.Instance, new CapturedAccessLog()));

        string problem = Assert.Single(error.Problems);
        Assert.StartsWith($"{At(path, "\"missing.test:80\"")}: server \"a\" `address`: the name \"missing.test\" does not resolve (NXDOMAIN: no such name (asked {dns.Address}))", problem);
        Assert.EndsWith("add init_addr = \"none\" to start without an address until it resolves", problem);
    }

    [Fact]
    public async Task WithInitAddrNone_AServerStartsWithoutAnAddress_AndTakesTrafficOnceItResolves()
    {
        await using DnsStub dns = new();
        await using HttpOrigin origin = HttpOrigin.Named("late");
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(dns, $"{{ name = \"a\", address = \"late.test:{origin.EndPoint.Port}\", init_addr = \"none\" }}"));
        Server server = ServerOf(proxy, "a");

        Assert.Empty(server.Addresses);
        Assert.False(server.IsEligible);
        Assert.Equal(["status 503"], await ServedByAsync(proxy, 1));
        Assert.StartsWith("last resolved at never, failing since ", (await DescribeAsync(proxy, "a")).GetProperty("dns").GetString());

        dns.SetAddresses("late.test", IPAddress.Loopback);
        await Wait.UntilAsync(() => server.IsEligible, "the name to resolve");
        Assert.Equal(["late"], await ServedByAsync(proxy, 1));
    }

    [Fact]
    public async Task AReload_KeepsTheResolutionOfAnUnchangedServer_EvenWhileItsNameFails()
    {
        await using DnsStub dns = new();
        await using HttpOrigin origin = HttpOrigin.Named("kept");
        dns.SetAddresses("app.test", IPAddress.Loopback);
        string server = $"{{ name = \"a\", address = \"app.test:{origin.EndPoint.Port}\" }}";
        await using RunningProxy proxy = await RunningProxy.StartAsync(Config(dns, server));
        Server before = ServerOf(proxy, "a");
        dns.SetNxDomain("app.test");
        await Wait.UntilAsync(() => before.Resolution!.FailingSince is not null, "the failure to be seen");
        DateTimeOffset since = before.Resolution!.FailingSince!.Value;

        File.WriteAllText(proxy.Host.Config.FilePath, Config(dns, server, backendExtra: "resolve_interval = \"150ms\"\nretries = 2"));
        Assert.Empty(await proxy.Host.ReloadConfigurationAsync());

        Server after = ServerOf(proxy, "a");
        Assert.Same(before, after);
        Assert.Equal(since, after.Resolution!.FailingSince);
        Assert.Equal(["kept"], await ServedByAsync(proxy, 1));

        // A new server whose name does not resolve is refused, as at start.
        File.WriteAllText(proxy.Host.Config.FilePath, Config(dns, server + ", { name = \"b\", address = \"other.test:80\" }"));
        IReadOnlyList<string> refused = await proxy.Host.ReloadConfigurationAsync();
        Assert.Contains("server \"b\" `address`: the name \"other.test\" does not resolve", Assert.Single(refused));
    }

    [Fact]
    public void Connections_SkipAnAddressWhoseConnectFailed_WhileAnotherIsLeft()
    {
        var first = new IPEndPoint(IPAddress.Loopback, 1);
        var second = new IPEndPoint(Second, 1);
        var addresses = new ServerAddresses([first, second]);
        Assert.Equal([first, second, first, second], Enumerable.Range(0, 4).Select(_ => addresses.Next()));

        addresses.Failed(first);
        Assert.All(Enumerable.Range(0, 4).Select(_ => addresses.Next()), a => Assert.Equal(second, a));
        Assert.Equal(2, Enumerable.Range(0, 2).Select(_ => addresses.NextForCheck()).Distinct().Count()); // checks take both in turn

        addresses.Failed(second);
        Assert.Equal(2, Enumerable.Range(0, 4).Select(_ => addresses.Next()).Distinct().Count()); // all failed: in turn again

        addresses.Succeeded(first);
        Assert.All(Enumerable.Range(0, 4).Select(_ => addresses.Next()), a => Assert.Equal(first, a));
    }

    [Fact]
    public async Task WithoutResolvers_NamesAreResolvedByTheSystem_HostsFileIncluded()
    {
        var resolver = new NameResolver(DnsSettings.Default);

        ResolveResult localhost = await resolver.ResolveAsync(new ServerHostName("localhost", 9001, false, false, default), CancellationToken.None);
        ResolveResult missing = await resolver.ResolveAsync(new ServerHostName("no-such-name.invalid", 9001, false, false, default), CancellationToken.None);

        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 9001), localhost.EndPoints!);
        Assert.Null(missing.EndPoints);
        Assert.Contains("the system's resolver", missing.Failure);
    }
}
