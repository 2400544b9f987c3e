using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PluginProxy.Tests.Backends;

/// <summary>
/// An origin that speaks HTTP/2 only (Kestrel on an ephemeral loopback port: h2c with prior knowledge, or TLS with ALPN
/// h2 when given a certificate): <c>GET /health</c> answers <see cref="Status"/> and records what each request looked like.
/// An HTTP/1.1 request gets no HTTP/1.1 answer from it.
/// </summary>
internal sealed class H2HealthOrigin : IAsyncDisposable
{
    private readonly WebApplication _app;

    private H2HealthOrigin(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public string Address { get; }

    /// <summary>What <c>/health</c> answers now.</summary>
    public int Status { get; set; } = 200;

    /// <summary>Each request: protocol, method, authority, path and User-Agent.</summary>
    public ConcurrentQueue<(string Protocol, string Method, string Host, string Path, string UserAgent)> Requests { get; } = new();

    public static async Task<H2HealthOrigin> StartAsync(X509Certificate2? certificate = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));

        WebApplication app = builder.Build();
        H2HealthOrigin? origin = null;
        app.MapGet("/health", (HttpContext context) =>
        {
            HttpRequest request = context.Request;
            origin!.Requests.Enqueue((request.Protocol, request.Method, request.Host.Value ?? "", request.Path.Value ?? "", request.Headers.UserAgent.ToString()));
            return Results.StatusCode(origin.Status);
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        origin = new H2HealthOrigin(app, new Uri(address).Authority);
        return origin;
    }

    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await _app.StopAsync(grace.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
