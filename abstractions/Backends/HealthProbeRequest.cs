namespace PluginProxy.Abstractions;

/// <summary>The request of a health check, as the backend's <c>check</c> and the host decide it: always a <c>GET</c> without a body.</summary>
/// <param name="Path">The check's <c>path</c> (origin form, starting with <c>/</c>).</param>
/// <param name="Host">The Host (HTTP/1.1) or <c>:authority</c> (HTTP/2): the check's <c>host</c>, else the server's address.</param>
/// <param name="UserAgent">The User-Agent to send (<c>PluginProxy-check</c>).</param>
public readonly record struct HealthProbeRequest(string Path, string Host, string UserAgent);
