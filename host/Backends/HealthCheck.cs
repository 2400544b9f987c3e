using System.Net.Sockets;
using System.Security.Authentication;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Backends;

/// <summary>
/// One health check of one server. The connect goes through <see cref="ServerConnector.ConnectForCheckAsync"/>, as traffic
/// connects (TLS included) but without counting as traffic; for <c>kind = "http"</c>, the request and the answer's head go
/// through the health probe a loaded plugin provides (<see cref="IHealthProbe"/>: the http plugin's codec), found anew at
/// each check, so that a replaced plugin version serves from the next check and an old one is never held.
/// </summary>
internal sealed class HealthCheck(PluginCatalog? plugins)
{
    /// <summary>The User-Agent of check requests.</summary>
    public const string UserAgent = "PluginProxy-check";

    /// <summary>The name under which a plugin provides the probe of <c>kind = "http"</c> checks.</summary>
    public const string HttpKind = "http";

    /// <summary>Why an http check fails when no loaded plugin provides the probe.</summary>
    public const string NoHttpProbe = "no loaded plugin provides http checks (the http plugin, PluginProxy.Http, does)";

    /// <summary>True when an http check can run now: a loaded plugin provides its probe.</summary>
    public bool CanCheckHttp => plugins?.ProvidesHealthProbe(HttpKind) == true;

    /// <summary>Checks <paramref name="server"/> once, within the check's <c>timeout</c>: null when it passed, else why it failed.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="stop"/> was signalled (the checks are stopping).</exception>
    public async Task<string?> RunAsync(Server server, HealthCheckConfig check, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(check.Timeout);
        ServerConnection? connection = null;
        try
        {
            connection = await ServerConnector.ConnectForCheckAsync(server, timeout.Token).ConfigureAwait(false);
            return check.Kind == HealthCheckKind.Tcp ? null : await ProbeAsync(server, check, connection, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return $"no answer within {check.Timeout.TotalMilliseconds:0}ms";
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode.ToString();
        }
        catch (Exception ex) when (connection is null && ex is AuthenticationException or IOException)
        {
            // A TLS server passes a check only if its handshake (and verification) succeeds, as traffic would need.
            return $"TLS: {TlsTransport.DescribeFailure(ex)}";
        }
        catch (Exception ex) when (!stop.IsCancellationRequested && ex is not OperationCanceledException)
        {
            // Whatever else failed, the server did not pass, and its checks go on.
            return $"{ex.GetType().Name}: {ex.Message}";
        }
        finally
        {
            connection?.Dispose();
        }
    }

    /// <summary>Asks the probe of the plugin that provides http checks now; the plugin is held only while the probe runs.</summary>
    private async Task<string?> ProbeAsync(Server server, HealthCheckConfig check, ServerConnection connection, CancellationToken timeout)
    {
        if (plugins is null || !plugins.TryAcquireHealthProbe(HttpKind, out LoadedPlugin? plugin, out IHealthProbe? probe))
        {
            return NoHttpProbe;
        }

        try
        {
            var request = new HealthProbeRequest(check.Path, check.Host ?? (server.Resolution?.Name is { Srv: false } name ? name.Written : server.Address.ToString()), UserAgent);
            HealthProbeResult result = await probe!.ProbeAsync(request, connection, timeout).ConfigureAwait(false);
            if (!result.IsAnswered)
            {
                return result.Failure;
            }

            return result.Status is >= 200 and < 400 ? null : $"HTTP status {result.Status}";
        }
        catch (Exception) when (timeout.IsCancellationRequested)
        {
            // Whatever the probe's reads and writes threw once the time ran out, the check timed out (or is stopping).
            throw new OperationCanceledException(timeout);
        }
        catch (Exception ex)
        {
            // Only the text is kept: an exception of the plugin's own type must not hold its version in memory.
            return $"the {HttpKind} probe of {plugin} threw {ex.GetType().Name}: {ex.Message}";
        }
        finally
        {
            plugin!.Release();
        }
    }
}
