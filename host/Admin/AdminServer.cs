using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Admin;

/// <summary>
/// The admin endpoint (<c>admin</c> and <c>admin_socket</c> in [global]): the dashboard at <c>/</c>, Prometheus metrics at
/// <c>/metrics</c>, JSON at <c>/api/stats</c> and <c>/api/dashboard</c>, <c>/health</c>, and the runtime API under
/// <c>/api/</c>. Reading is open; a request that may change state (any method but GET and HEAD) needs the admin credential
/// (<see cref="AdminAccess"/>), except on the Unix socket, whose file permissions are the credential. Served by Kestrel
/// (docs/architecture.md says why) on sockets bound here first, so that a bind error is reported at the configuration's
/// line like any other. The default configuration never proxies to it.
/// </summary>
internal sealed class AdminServer : IDisposable
{
    private const int MaxBody = 64 * 1024;

    private readonly ProxyHost _host;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private Socket? _tcp;
    private Socket? _unix;
    private readonly string? _socketPath;
    private WebApplication? _app;

    /// <summary>Binds what <paramref name="config"/>'s [global] asks for; nothing is accepted before <see cref="Start"/>.</summary>
    /// <exception cref="AdminBindException">An address or the socket path cannot be bound (nothing is left bound).</exception>
    public AdminServer(ProxyHost host, ProxyConfig config, ILoggerFactory loggers)
    {
        _host = host;
        _loggers = loggers;
        _log = loggers.CreateLogger("PluginProxy.Admin");
        if (config.Global.Admin is { } address)
        {
            _tcp = AdminSockets.BindTcp(address, config.Global.AdminSpot?.ToString() ?? config.FilePath);
            EndPoint = (IPEndPoint)_tcp.LocalEndPoint!;
            if (!IPAddress.IsLoopback(address.Address))
            {
                AdminLog.NotLoopback(_log, EndPoints.Format(EndPoint));
            }
        }

        if (config.Global.AdminSocket is { } path)
        {
            try
            {
                _unix = AdminSockets.BindUnix(path, config.FilePath);
                _socketPath = path;
            }
            catch
            {
                _tcp?.Dispose();
                throw;
            }
        }
    }

    /// <summary>True when [global] asks for an admin endpoint.</summary>
    public static bool IsConfigured(GlobalConfig global) => global.Admin is not null || global.AdminSocket is not null;

    /// <summary>True when <paramref name="next"/> asks for the same sockets as <paramref name="current"/> (a reload keeps them).</summary>
    public static bool SameSockets(GlobalConfig current, GlobalConfig next) => Equals(current.Admin, next.Admin) && current.AdminSocket == next.AdminSocket;

    /// <summary>The TCP address bound (with the real port when the configuration said 0), or null for a socket only.</summary>
    public IPEndPoint? EndPoint { get; }

    /// <summary>Where it listens, for the log: <c>http://127.0.0.1:8404/</c>, the socket path, or both.</summary>
    public string Addresses => string.Join(" and ", new[] { EndPoint is { } tcp ? $"http://{EndPoints.Format(tcp)}/" : null, _socketPath }.OfType<string>());

    /// <summary>Starts Kestrel on the bound sockets (it takes them over).</summary>
    public void Start()
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "pluginproxy-admin" });
        // The proxy handles its own signals: the admin endpoint starts and stops with it, never on a signal of its own.
        builder.Services.AddSingleton<IHostLifetime, AdminLifetime>();
        builder.Services.AddSingleton<ILoggerFactory>(new QuietLoggerFactory(_loggers));
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxBody;
            kestrel.Limits.MaxRequestHeadersTotalSize = 8192;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(5);
            foreach (Socket socket in new[] { _tcp, _unix }.OfType<Socket>())
            {
                // Kestrel owns (and closes) the descriptor it is given: it gets a duplicate, and ours closes now.
                kestrel.ListenHandle(AdminSockets.Duplicate(socket));
            }
        });
        WebApplication app = builder.Build();
        if (_host.EnsureTelemetry() is { } telemetry)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint(telemetry.Provider, context => context.Request.Path == "/metrics", null, null, null);
        }

        app.Run(ServeAsync);
        app.StartAsync().GetAwaiter().GetResult();
        _tcp?.Dispose();
        _unix?.Dispose();
        (_tcp, _unix, _app) = (null, null, app);
    }

    private async Task ServeAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        // The Unix socket has no IP address: a client that could connect to it passed its file permissions.
        bool trusted = context.Connection.LocalIpAddress is null;
        string peer = trusted ? "the admin socket" : LogNames.Format(new IPEndPoint(context.Connection.RemoteIpAddress!, context.Connection.RemotePort));
        string target = request.Path.Value + request.QueryString.Value;
        AdminResponse response;
        if (AdminAccess.IsReadOnly(request.Method))
        {
            response = AdminPages.Render(_host, target);
        }
        else if (await ReadBodyAsync(request).ConfigureAwait(false) is not { } body)
        {
            response = AdminResponse.Text(413, "Bodies here are limited to 64 KiB\n");
        }
        else
        {
            response = await ActAsync(request.Method, request.Path.Value ?? "/", body, request.Headers.Authorization.ToString(), peer, trusted).ConfigureAwait(false);
        }

        HttpResponse output = context.Response;
        output.StatusCode = response.Status;
        output.ContentType = response.ContentType;
        output.ContentLength = response.Body.Length;
        output.Headers.CacheControl = "no-cache";
        output.Headers["Server"] = "PluginProxy-admin";
        foreach ((string name, string value) in response.Headers)
        {
            output.Headers.Append(name, value);
        }

        if (!HttpMethods.IsHead(request.Method))
        {
            await output.Body.WriteAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>The body, or null when it is larger than <see cref="MaxBody"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request)
    {
        using var body = new MemoryStream();
        try
        {
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return body.Length > MaxBody ? null : body.ToArray();
    }

    /// <summary>Anything but a read is an action, allowed only with the admin credential.</summary>
    private async Task<AdminResponse> ActAsync(string method, string path, ReadOnlyMemory<byte> body, string authorization, string peer, bool trusted)
    {
        if (!trusted && AdminAccess.Refusal(method, path, authorization.Length == 0 ? null : authorization, _host.Config.Global.AdminToken) is { } refused)
        {
            AdminLog.Refused(_log, method, path, peer, refused.Status);
            return refused;
        }

        switch (method, path)
        {
            case ("POST", "/api/reload"):
                AdminLog.ReloadAsked(_log, peer);
                return await ReloadAsync().ConfigureAwait(false);
            case (_, "/api/reload"):
                return AdminResponse.Text(405, "Use POST /api/reload\n") with { Headers = [new("Allow", "POST")] };
            case (_, _) when RuntimeApi.Owns(path):
                return await RuntimeApi.ChangeAsync(_host, method, path, body, peer).ConfigureAwait(false);
            default:
                return AdminResponse.Text(404, $"No action at {method} {path}; the actions are: POST /api/reload, and the runtime API's under /api/backends (PATCH, POST, DELETE)\n");
        }
    }

    /// <summary>POST /api/reload: the configuration is loaded again (off the request's thread: it may compile scripts).</summary>
    private async Task<AdminResponse> ReloadAsync()
    {
        IReadOnlyList<string> problems = await Task.Run(_host.ReloadConfigurationAsync).ConfigureAwait(false);
        return problems.Count == 0
            ? AdminResponse.Text(200, "configuration reloaded\n")
            : AdminResponse.Text(409, string.Join("\n", problems) + "\n");
    }

    /// <summary>Stops serving: open connections are closed at once.</summary>
    public void Dispose()
    {
        if (_app is { } app)
        {
            _app = null;
            using var now = new CancellationTokenSource();
            now.Cancel();
            app.StopAsync(now.Token).GetAwaiter().GetResult();
            ((IDisposable)app).Dispose();
        }

        _tcp?.Dispose();
        _unix?.Dispose();
        if (_socketPath is not null)
        {
            AdminSockets.Remove(_socketPath);
        }
    }

    /// <summary>A host lifetime that neither waits for nor reacts to signals.</summary>
    private sealed class AdminLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
