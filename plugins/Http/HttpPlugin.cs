using PluginProxy.Abstractions;
using PluginProxy.Http.Checks;

namespace PluginProxy.Http;

/// <summary>
/// Provides the <c>http</c> supervisor, the <c>http_lb_req</c>, <c>http_lb_resp</c> and <c>http_echo</c> analyzers, and
/// the probe of <c>kind = "http"</c> health checks.
/// </summary>
public sealed class HttpPlugin : IPlugin
{
    /// <inheritdoc/>
    public void Configure(IPluginBuilder builder) => builder
        .AddSupervisor<HttpSupervisor>("http")
        .AddAnalyzer<HttpLbReq>("http_lb_req")
        .AddAnalyzer<HttpLbResp>("http_lb_resp")
        .AddAnalyzer<HttpEcho>("http_echo")
        .AddHealthProbe<HttpHealthProbe>("http");
}
