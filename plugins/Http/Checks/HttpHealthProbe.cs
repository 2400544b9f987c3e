using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Checks;

/// <summary>
/// The probe of <c>kind = "http"</c> health checks: the check request is written, and the answer's head read, by this
/// plugin's own codec, as strictly as traffic is read. HTTP/1.1 (<see cref="Http1Check"/>), or HTTP/2 for a server with
/// <c>proto = "h2"</c> (<see cref="Http2Check"/>: the client the server pool speaks to such a server with).
/// </summary>
public sealed class HttpHealthProbe : IHealthProbe
{
    /// <inheritdoc/>
    public ValueTask<HealthProbeResult> ProbeAsync(HealthProbeRequest request, ServerConnection connection, CancellationToken cancellationToken)
    {
        if (Refuse(request) is { } invalid)
        {
            return ValueTask.FromResult(HealthProbeResult.Failed(invalid));
        }

        return connection.Server.Protocol == ServerProtocol.Http2
            ? Http2Check.RunAsync(request, connection, cancellationToken)
            : Http1Check.RunAsync(request, connection.Transport, cancellationToken);
    }

    /// <summary>
    /// Why the request cannot be sent, or null: a path that is not an origin-form target of visible ASCII (or holds a
    /// fragment), a Host that is not an authority, a User-Agent with a control character.
    /// </summary>
    internal static string? Refuse(HealthProbeRequest request)
    {
        string path = request.Path;
        if (path.Length == 0 || path[0] != '/' || !path.All(HttpSyntax.IsTargetChar) || path.Contains('#'))
        {
            return $"the check path \"{path}\" is not a request target (a path starting with '/', visible ASCII only, no '#')";
        }

        if (request.Host.Length == 0 || request.Host.Any(c => c > 0x7F || !HttpChars.Authority.Contains((byte)c)))
        {
            return $"the check host \"{request.Host}\" is not a valid Host";
        }

        return request.UserAgent.Any(c => c > 0xFF || HttpChars.InvalidInValue.Contains((byte)c))
            ? "the check User-Agent holds a control character"
            : null;
    }
}
