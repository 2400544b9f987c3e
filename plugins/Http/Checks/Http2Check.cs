using PluginProxy.Abstractions;
using PluginProxy.Http.Engine.H2.Upstream;

namespace PluginProxy.Http.Checks;

/// <summary>
/// A health check of a <c>proto = "h2"</c> server, over HTTP/2 as traffic to it (TLS with ALPN h2, or h2c with prior
/// knowledge): the client of the server pool (<see cref="Http2ServerConnection"/>) on a connection of its own, the
/// server's SETTINGS awaited, one <c>GET</c> stream, the final head's <c>:status</c>; then GOAWAY and close.
/// </summary>
internal static class Http2Check
{
    public static async ValueTask<HealthProbeResult> RunAsync(HealthProbeRequest request, ServerConnection connection, CancellationToken cancellationToken)
    {
        var client = new Http2ServerConnection(connection.Transport);
        Task run = Task.Run(client.RunAsync, CancellationToken.None);
        try
        {
            await client.SettingsReceived.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!client.TryOpenStream(out Http2ClientStream stream))
            {
                return HealthProbeResult.Failed(client.IsClosed
                    ? $"no HTTP/2 connection: {client.EndDetail ?? "it ended before the server's SETTINGS"}"
                    : "the HTTP/2 server takes no stream (SETTINGS_MAX_CONCURRENT_STREAMS 0, or GOAWAY)");
            }

            using (stream)
            {
                KeyValuePair<string, string>[] fields = [new("user-agent", request.UserAgent)];
                await stream.WriteRequestHeadAsync("GET", client.IsTls ? "https" : "http", request.Host, request.Path, fields, endStream: true, cancellationToken)
                    .ConfigureAwait(false);
                Http2UpstreamResponse head = await stream.ReadResponseHeadAsync(cancellationToken).ConfigureAwait(false);
                return HealthProbeResult.Answered(head.Status);
            }
        }
        catch (Http2StreamAbortedException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthProbeResult.Failed($"HTTP/2: {ex.Message}");
        }
        catch (ArgumentException ex)
        {
            return HealthProbeResult.Failed($"the check request cannot be sent over HTTP/2: {ex.Message}");
        }
        finally
        {
            await EndAsync(client, run, connection, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends GOAWAY and waits for the connection's reader to end, so that nothing of this plugin version runs on after
    /// the check; once the check's time ran out the connection is closed under it instead.
    /// </summary>
    private static async Task EndAsync(Http2ServerConnection client, Task run, ServerConnection connection, CancellationToken cancellationToken)
    {
        client.BeginShutdown();
        try
        {
            await run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            connection.Dispose();
            await run.ConfigureAwait(false);
        }
    }
}
