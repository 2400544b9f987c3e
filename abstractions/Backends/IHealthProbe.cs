namespace PluginProxy.Abstractions;

/// <summary>
/// Speaks the request of a backend's health check (<c>check = { kind = "http", ... }</c>) over a connection the host made
/// to one server, and reads the head of the answer. A plugin announces it with
/// <see cref="IPluginBuilder.AddHealthProbe{TProbe}"/> under the check kind it serves; the http plugin provides
/// <c>"http"</c>. A <c>tcp</c> check needs no probe: the connect is the check.
/// </summary>
/// <remarks>
/// For each check the host connects to the server as traffic does (same socket options, same TLS and verification),
/// whatever the server's health or admin state, without counting it as traffic; it then finds the probe among the plugins
/// loaded at that moment, calls it, decides from the status whether the server passed (2xx and 3xx pass), and closes the
/// connection. A new version of the plugin therefore serves from the next check on, and nothing of an old version is
/// kept: hold no state between calls. The probe may close the connection itself; it must not keep it.
/// </remarks>
public interface IHealthProbe
{
    /// <summary>Sends <paramref name="request"/> on <paramref name="connection"/> and reads the status of the final answer.</summary>
    /// <param name="request">What to ask for.</param>
    /// <param name="connection">A fresh connection to the server (TLS done), in the protocol of <see cref="IServer.Protocol"/>.</param>
    /// <param name="cancellationToken">Signalled when the check's <c>timeout</c> runs out (or the checks stop).</param>
    /// <returns>The status answered, or why there is no valid answer.</returns>
    ValueTask<HealthProbeResult> ProbeAsync(HealthProbeRequest request, ServerConnection connection, CancellationToken cancellationToken);
}
