using PluginProxy.Abstractions;

namespace PluginProxy.Http;

/// <summary>Provides the <c>http</c> supervisor and the <c>http_lb_req</c>, <c>http_lb_resp</c> and <c>http_echo</c> analyzers.</summary>
public sealed class HttpPlugin : IPlugin
{
    /// <inheritdoc/>
    public void Configure(IPluginBuilder builder) => builder
        .AddSupervisor<HttpSupervisor>("http")
        .AddAnalyzer<HttpLbReq>("http_lb_req")
        .AddAnalyzer<HttpLbResp>("http_lb_resp")
        .AddAnalyzer<HttpEcho>("http_echo");
}
