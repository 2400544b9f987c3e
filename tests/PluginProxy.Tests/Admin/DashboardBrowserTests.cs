using System.Globalization;
using System.Text;
using System.Text.Json;
using PluginProxy.Host.Backends;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Admin;

/// <summary>
/// The dashboard in a real browser (headless Chromium over the DevTools protocol): while a client sends requests its
/// figures move, a wrong token gets the API's refusal on the page, and the Drain button drains the server. Set
/// <c>PLUGINPROXY_DASHBOARD_SCREENSHOT</c> to a path to keep the screenshot it takes (scripts/dashboard-screenshot.sh
/// writes docs/dashboard.png that way). Timing-sensitive: it waits for rates measured over the page's polling window.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class DashboardBrowserTests
{
    private const string Token = "5d41402abc4b2a76b9719d911017c592";
    private static readonly TimeSpan PageDeadline = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Dashboard_ShowsFiguresMovingWhileTrafficFlows_AndItsDrainButtonDrainsTheServer()
    {
        string? chromium = HeadlessChromium.Find();
        Skip.If(chromium is null, "no headless browser: install Debian's `chromium` package (apt-get install chromium) to run the dashboard's browser test");

        await using HttpOrigin a = Origin("a");
        await using HttpOrigin b = Origin("b");
        using var secrets = new TempDirectory();
        string tokenFile = secrets.Write("admin.token", Token + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await using RunningProxy proxy = await RunningProxy.StartAsync(HttpConfig.WithServers([("a", a.Address, 1), ("b", b.Address, 1)],
            $"admin = \"127.0.0.1:0\"\nadmin_token_file = \"{tokenFile}\"", "check = { kind = \"tcp\", interval = \"1s\" }"));
        Server serverA = ServerOf(proxy, "a"), serverB = ServerOf(proxy, "b");

        using var stop = new CancellationTokenSource();
        Task traffic = DriveAsync(proxy, stop.Token);
        try
        {
            await using HeadlessChromium browser = await HeadlessChromium.StartAsync(chromium!);
            await browser.NavigateAsync($"http://{proxy.Host.AdminEndPoint}/");

            // Figures move: a rate above zero, counts that grow between polls, latencies and bytes.
            await Wait.ForAsync(async () => Number(await CellAsync(browser, "listener:web", "rate")) > 0, "a request rate on listener web", PageDeadline);
            double first = Number(await CellAsync(browser, "server:app/a", "c2xx"));
            await Wait.ForAsync(async () => Number(await CellAsync(browser, "server:app/a", "c2xx")) > first, "the 2xx count of server a to grow on the page", PageDeadline);
            await Wait.ForAsync(async () => Number(await CellAsync(browser, "backend:app", "c4xx")) > 0, "404s counted on backend app", PageDeadline);
            Assert.True(Number(await CellAsync(browser, "backend:app", "rate")) > 0);
            Assert.True(Number(await CellAsync(browser, "server:app/a", "p99")) >= Number(await CellAsync(browser, "server:app/a", "p50")));
            Assert.EndsWith("B", await CellAsync(browser, "listener:web", "in"));
            Assert.NotEqual("0 B", await CellAsync(browser, "listener:web", "out"));
            Assert.Equal("UP", await CellAsync(browser, "server:app/a", "health"));
            await Wait.ForAsync(async () => (await CellAsync(browser, "server:app/a", "checked")).EndsWith(" s ago", StringComparison.Ordinal), "the time of the last check", PageDeadline);
            Assert.Equal("ready", await CellAsync(browser, "server:app/a", "state"));
            Assert.Equal("PluginProxy.Http", await CellAsync(browser, "plugin:PluginProxy.Http", "name"));

            Assert.False(await browser.EvaluateAsync<bool>("document.getElementById('scripts-none').hidden"));

            // The reload history: one that took, one refused with its reason (newest first).
            Assert.Empty(await proxy.Host.ReloadConfigurationAsync());
            string configPath = Path.Combine(proxy.Directory, "proxy.toml");
            string config = await File.ReadAllTextAsync(configPath);
            await File.WriteAllTextAsync(configPath, config + "\n[[backend]]\nname = \"broken\"\n");
            Assert.NotEmpty(await proxy.Host.ReloadConfigurationAsync());
            await File.WriteAllTextAsync(configPath, config);
            await Wait.ForAsync(async () => await TextAsync(browser, "#reloads tbody tr:nth-child(1) td[data-field='result'] > span") == "failed",
                "the refused reload at the top of the history", PageDeadline);
            Assert.Equal("done", await TextAsync(browser, "#reloads tbody tr:nth-child(2) td[data-field='result'] > span"));
            Assert.Equal("config", await TextAsync(browser, "#reloads tbody tr:nth-child(2) td[data-field='kind'] > span"));
            Assert.Contains("proxy.toml", await TextAsync(browser, "#reloads tbody tr:nth-child(1) td[data-field='result'] > small"));

            // A wrong token: the API's refusal shows, nothing changes.
            string drainA = "tr[data-key='server:app/a'] button[data-action='drain']";
            await browser.TypeAsync("#token", "not-the-token");
            await browser.ClickAsync(drainA);
            await Wait.ForAsync(async () => (await MessageAsync(browser)).Contains("Refused (401): The admin token is wrong.", StringComparison.Ordinal),
                "the page to show the 401 and the API's reason", PageDeadline);
            Assert.Equal(ServerAdminState.Ready, serverA.AdminState);

            // The right token: Drain drains a (the host says so, then the page), and the tab keeps the token.
            await browser.TypeAsync("#token", Token);
            await browser.ClickAsync(drainA);
            await Wait.UntilAsync(() => serverA.AdminState == ServerAdminState.Drain, "the Drain button to drain server a", PageDeadline);
            await Wait.ForAsync(async () => await CellAsync(browser, "server:app/a", "state") == "drain", "the page to show a as drain", PageDeadline);
            Assert.Contains("app/a is now drain.", await MessageAsync(browser));
            Assert.Equal(Token, await browser.EvaluateAsync<string>("sessionStorage.getItem('pluginproxy.admin-token')"));
            Assert.True(await browser.EvaluateAsync<bool>($"document.querySelector(\"{drainA}\").disabled"));
            Assert.False(await browser.EvaluateAsync<bool>("document.querySelector(\"tr[data-key='server:app/a'] button[data-action='ready']\").disabled"));

            // Drained: new requests go to b only (a stream a carried when it drained may still finish there).
            long aBefore = serverA.Traffic.Snapshot().Requests, bBefore = serverB.Traffic.Snapshot().Requests;
            await Wait.UntilAsync(() => serverB.Traffic.Snapshot().Requests >= bBefore + 20, "more requests to reach b", PageDeadline);
            Assert.InRange(serverA.Traffic.Snapshot().Requests - aBefore, 0, 1);

            // The screenshot: a drained, traffic flowing to b.
            byte[] png = await browser.ScreenshotAsync();
            Assert.True(png.AsSpan().StartsWith((byte[])[0x89, (byte)'P', (byte)'N', (byte)'G']), "the screenshot is a PNG");
            if (Environment.GetEnvironmentVariable("PLUGINPROXY_DASHBOARD_SCREENSHOT") is { Length: > 0 } keep)
            {
                await File.WriteAllBytesAsync(keep, png);
            }

            Assert.Empty(browser.Errors);
        }
        finally
        {
            await stop.CancelAsync();
            await traffic;
        }
    }

    /// <summary>An origin answering 200 with its name, or 404 for paths under /missing; keep-alive.</summary>
    private static HttpOrigin Origin(string name) => new(async (request, socket) =>
    {
        bool missing = request.Target.StartsWith("/missing", StringComparison.Ordinal);
        string body = missing ? "not here" : name;
        await socket.SendAllAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {(missing ? "404 Not Found" : "200 OK")}\r\nContent-Length: {body.Length}\r\n\r\n{body}"));
        return true;
    });

    /// <summary>A real client (HttpClient, keep-alive) sending requests until stopped, one in ten to a missing page.</summary>
    private static async Task DriveAsync(RunningProxy proxy, CancellationToken stop)
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://{proxy.EndPoint()}/"), Timeout = TimeSpan.FromSeconds(10) };
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            try
            {
                using HttpResponseMessage response = await client.GetAsync(i % 10 == 9 ? $"/missing/{i}" : $"/page/{i}", stop);
                await response.Content.ReadAsByteArrayAsync(stop);
                // Paced: a steady flow, not a load test on a shared machine.
                await Task.Delay(5, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private static Server ServerOf(RunningProxy proxy, string name) => proxy.Host.Backends.Backends.Single(b => b.Name == "app").ServerStates.Single(s => s.Name == name);

    /// <summary>The text a row's cell shows (its main figure, without the small print under it), or "" when absent.</summary>
    private static Task<string> CellAsync(HeadlessChromium browser, string row, string field) =>
        TextAsync(browser, $"tr[data-key='{row}'] td[data-field='{field}'] > span");

    /// <summary>The text of the element <paramref name="selector"/> finds, or "" when there is none.</summary>
    private static async Task<string> TextAsync(HeadlessChromium browser, string selector) =>
        await browser.EvaluateAsync<string>($"(document.querySelector({JsonSerializer.Serialize(selector)}) || {{ textContent: '' }}).textContent") ?? "";

    private static async Task<string> MessageAsync(HeadlessChromium browser) =>
        await browser.EvaluateAsync<string>("document.getElementById('message').textContent") ?? "";

    /// <summary>A figure as the page prints it (a plain number; "–" when there is none yet reads as 0).</summary>
    private static double Number(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : 0;
}
