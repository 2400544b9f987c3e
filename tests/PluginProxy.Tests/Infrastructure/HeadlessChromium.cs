using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// A headless Chromium driven over the DevTools protocol (a WebSocket and JSON, no driver to install): navigate,
/// evaluate JavaScript in the page, click and type with real input events, take screenshots. The page's uncaught
/// exceptions and <c>console.error</c> calls are collected in <see cref="Errors"/>.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly TempDirectory _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly StringBuilder _output = new();
    private Task _receiving = Task.CompletedTask;
    private int _nextId;

    private HeadlessChromium(Process process, TempDirectory profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>The page's uncaught exceptions and console errors, in order.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>The browser's program on PATH (Debian's <c>chromium</c> first), or null when none is installed.</summary>
    public static string? Find() =>
        new[] { "chromium", "chromium-browser", "google-chrome-stable", "google-chrome" }.Select(Tools.FindOnPath).FirstOrDefault(p => p is not null);

    /// <summary>Starts the browser with a fresh profile and attaches to its first tab.</summary>
    public static async Task<HeadlessChromium> StartAsync(string executable, int width = 1400, int height = 900)
    {
        var profile = new TempDirectory();
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in new[]
        {
            "--headless", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", "--mute-audio", $"--window-size={width},{height}", $"--user-data-dir={profile.Path}",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }

        // Chromium refuses its sandbox as root (CI runs as root) and cannot set it up in a container without user
        // namespaces; it only ever opens the proxy's own page on loopback here.
        start.ArgumentList.Insert(0, "--no-sandbox");

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start");
        var browser = new HeadlessChromium(process, profile);
        process.OutputDataReceived += (_, e) => browser.Note(e.Data);
        process.ErrorDataReceived += (_, e) => browser.Note(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await browser.AttachAsync();
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    private void Note(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    /// <summary>What the browser printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Finds the DevTools port in the profile (the browser writes it once it listens) and connects to the first tab.</summary>
    private async Task AttachAsync()
    {
        string portFile = Path.Combine(_profile.Path, "DevToolsActivePort");
        string[] lines = [];
        await Wait.UntilAsync(() =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the browser exited with {_process.ExitCode}:\n{Output}");
            }

            lines = File.Exists(portFile) ? File.ReadAllLines(portFile) : [];
            return lines.Length >= 2 && int.TryParse(lines[0], out _);
        }, "the browser to write DevToolsActivePort", TimeSpan.FromSeconds(30));

        using var http = new HttpClient { Timeout = CommandDeadline };
        string? page = null;
        await Wait.ForAsync(async () =>
        {
            using JsonDocument targets = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{lines[0]}/json/list"));
            page = targets.RootElement.EnumerateArray().Where(t => t.GetProperty("type").GetString() == "page")
                .Select(t => t.GetProperty("webSocketDebuggerUrl").GetString()).FirstOrDefault();
            return page is not null;
        }, "the browser's first tab", CommandDeadline);
        await _socket.ConnectAsync(new Uri(page!), _stop.Token).WithDeadline("the DevTools WebSocket to connect", CommandDeadline);
        _receiving = Task.Run(ReceiveAsync);
        await SendAsync("Runtime.enable");
        await SendAsync("Page.enable");
    }

    /// <summary>Sends a DevTools command and returns its result.</summary>
    public async Task<JsonElement> SendAsync(string method, object? parameters = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        byte[] message = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters ?? new { } });
        await _sending.WaitAsync();
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Text, true, _stop.Token);
        }
        finally
        {
            _sending.Release();
        }

        return await answer.Task.WithDeadline($"the browser to answer {method}", CommandDeadline);
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                WebSocketReceiveResult received = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, received.Count);
                if (received.EndOfMessage)
                {
                    Dispatch(message.ToArray());
                    message.SetLength(0);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // Closing: whatever waits fails below.
        }

        foreach (TaskCompletionSource<JsonElement> waiting in _pending.Values)
        {
            waiting.TrySetException(new InvalidOperationException($"the DevTools connection closed; the browser said:\n{Output}"));
        }
    }

    private void Dispatch(byte[] json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        if (root.TryGetProperty("id", out JsonElement id) && _pending.TryRemove(id.GetInt32(), out TaskCompletionSource<JsonElement>? answer))
        {
            if (root.TryGetProperty("error", out JsonElement error))
            {
                answer.TrySetException(new InvalidOperationException($"DevTools error: {error}"));
            }
            else
            {
                answer.TrySetResult(root.GetProperty("result").Clone());
            }
        }
        else if (root.TryGetProperty("method", out JsonElement method))
        {
            switch (method.GetString())
            {
                case "Runtime.exceptionThrown":
                    Errors.Enqueue(root.GetProperty("params").GetProperty("exceptionDetails").ToString());
                    break;
                case "Runtime.consoleAPICalled" when root.GetProperty("params").GetProperty("type").GetString() == "error":
                    Errors.Enqueue(root.GetProperty("params").GetProperty("args").ToString());
                    break;
            }
        }
    }

    /// <summary>Opens <paramref name="url"/> and waits until the document has loaded.</summary>
    public async Task NavigateAsync(string url)
    {
        JsonElement navigated = await SendAsync("Page.navigate", new { url });
        if (navigated.TryGetProperty("errorText", out JsonElement error))
        {
            throw new InvalidOperationException($"the browser could not open {url}: {error.GetString()}");
        }

        await Wait.ForAsync(async () => await EvaluateAsync<string>("document.readyState") == "complete", $"{url} to load", CommandDeadline);
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise) and returns its value as JSON.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression)
    {
        JsonElement result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result.TryGetProperty("exceptionDetails", out JsonElement exception))
        {
            throw new InvalidOperationException($"the page threw evaluating {expression}: {exception}");
        }

        JsonElement value = result.GetProperty("result");
        return value.TryGetProperty("value", out JsonElement json) ? json.Clone() : default;
    }

    public async Task<T?> EvaluateAsync<T>(string expression)
    {
        JsonElement value = await EvaluateAsync(expression);
        return value.ValueKind == JsonValueKind.Undefined ? default : value.Deserialize<T>();
    }

    /// <summary>Clicks the middle of the element <paramref name="selector"/> finds, with the mouse (it must be visible and enabled to react).</summary>
    public async Task ClickAsync(string selector)
    {
        JsonElement point = await EvaluateAsync($$"""
            (() => {
              const e = document.querySelector({{JsonSerializer.Serialize(selector)}});
              if (!e) return null;
              e.scrollIntoView({ block: 'center' });
              const r = e.getBoundingClientRect();
              return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
            })()
            """);
        if (point.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException($"nothing on the page matches {selector}");
        }

        double x = point.GetProperty("x").GetDouble(), y = point.GetProperty("y").GetDouble();
        await SendAsync("Input.dispatchMouseEvent", new { type = "mouseMoved", x, y });
        await SendAsync("Input.dispatchMouseEvent", new { type = "mousePressed", x, y, button = "left", clickCount = 1 });
        await SendAsync("Input.dispatchMouseEvent", new { type = "mouseReleased", x, y, button = "left", clickCount = 1 });
    }

    /// <summary>Replaces the text of the input <paramref name="selector"/> finds as typing would (input events included).</summary>
    public async Task TypeAsync(string selector, string text)
    {
        bool found = await EvaluateAsync<bool>($$"""
            (() => {
              const e = document.querySelector({{JsonSerializer.Serialize(selector)}});
              if (!e) return false;
              e.focus();
              e.select();
              return true;
            })()
            """);
        if (!found)
        {
            throw new InvalidOperationException($"nothing on the page matches {selector}");
        }

        await SendAsync("Input.insertText", new { text });
    }

    /// <summary>A PNG of the whole page (the viewport stretched to its height).</summary>
    public async Task<byte[]> ScreenshotAsync(int width = 1400)
    {
        int height = await EvaluateAsync<int>("Math.ceil(document.documentElement.scrollHeight)");
        await SendAsync("Emulation.setDeviceMetricsOverride", new { width, height = Math.Max(height, 300), deviceScaleFactor = 1, mobile = false });
        try
        {
            JsonElement shot = await SendAsync("Page.captureScreenshot", new { format = "png" });
            return Convert.FromBase64String(shot.GetProperty("data").GetString()!);
        }
        finally
        {
            await SendAsync("Emulation.clearDeviceMetricsOverride");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _receiving;
        _socket.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WithDeadline("the browser to exit", CommandDeadline);
        }
        finally
        {
            _process.Dispose();
            _profile.Dispose();
            _stop.Dispose();
            _sending.Dispose();
        }
    }
}
