using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Admin;

/// <summary>
/// The admin endpoint (<c>admin</c> and <c>admin_socket</c> in [global]): the stats page at <c>/</c>, Prometheus metrics at
/// <c>/metrics</c>, JSON stats at <c>/api/stats</c>, <c>/health</c>, and the runtime API under <c>/api/</c>. Reading is
/// open; a request that may change state (any method but GET and HEAD: <c>POST /api/reload</c>, the runtime API's changes to servers) needs the admin
/// credential (<see cref="AdminAccess"/>), except on the Unix socket, whose file permissions are the credential. A
/// deliberately small HTTP/1.1 responder with keep-alive; bodies up to 64 KiB with a Content-Length. The default
/// configuration never proxies to it.
/// </summary>
internal sealed class AdminServer : IDisposable
{
    private const int MaxRequestHead = 8192;
    private const int MaxBody = 64 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly ProxyHost _host;
    private readonly ILogger _log;
    private readonly Socket? _tcp;
    private readonly Socket? _unix;
    private readonly string? _socketPath;
    private readonly CancellationTokenSource _stop = new();

    /// <summary>Binds what <paramref name="config"/>'s [global] asks for; nothing is accepted before <see cref="Start"/>.</summary>
    /// <exception cref="AdminBindException">An address or the socket path cannot be bound (nothing is left bound).</exception>
    public AdminServer(ProxyHost host, ProxyConfig config, ILogger log)
    {
        _host = host;
        _log = log;
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

    public void Start()
    {
        if (_tcp is not null)
        {
            _ = AcceptLoopAsync(_tcp, trusted: false);
        }

        if (_unix is not null)
        {
            _ = AcceptLoopAsync(_unix, trusted: true);
        }
    }

    /// <param name="trusted">True on the Unix socket: a client that could connect passed its file permissions.</param>
    private async Task AcceptLoopAsync(Socket listening, bool trusted)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listening.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                AdminLog.AcceptFailed(_log, ex.SocketErrorCode);
                continue;
            }

            _ = ServeAsync(client, trusted);
        }
    }

    /// <summary>Serves requests on one connection (keep-alive) until the client closes, asks to close, or idles 5 s.</summary>
    private async Task ServeAsync(Socket client, bool trusted)
    {
        using (client)
        {
            var buffer = new byte[MaxRequestHead + MaxBody];
            int filled = 0;
            try
            {
                while (true)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    timeout.CancelAfter(RequestTimeout);
                    int headEnd;
                    while ((headEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
                    {
                        if (filled >= MaxRequestHead)
                        {
                            await SendAsync(client, AdminResponse.Text(431, "Request header too large\n"), false, close: true, timeout.Token).ConfigureAwait(false);
                            return;
                        }

                        int n = await client.ReceiveAsync(buffer.AsMemory(filled, MaxRequestHead - filled), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                        if (n == 0)
                        {
                            return;
                        }

                        filled += n;
                    }

                    string head = Encoding.Latin1.GetString(buffer, 0, headEnd);
                    string[] lines = head.Split("\r\n");
                    string[] parts = lines[0].Split(' ');
                    if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || lines.Skip(1).Any(l => !l.Contains(':')))
                    {
                        await SendAsync(client, AdminResponse.Text(400, "Bad request\n"), false, close: true, timeout.Token).ConfigureAwait(false);
                        return;
                    }

                    string? lengthText = Header(lines, "Content-Length");
                    if (Header(lines, "Transfer-Encoding") is not null || (lengthText is not null && (!int.TryParse(lengthText, out int length) || length is < 0 or > MaxBody)))
                    {
                        await SendAsync(client, AdminResponse.Text(413, "Bodies here are limited to 64 KiB with a Content-Length\n"), false, close: true, timeout.Token).ConfigureAwait(false);
                        return;
                    }

                    int bodyLength = lengthText is null ? 0 : int.Parse(lengthText);
                    int total = headEnd + 4 + bodyLength;
                    while (filled < total)
                    {
                        int n = await client.ReceiveAsync(buffer.AsMemory(filled, total - filled), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                        if (n == 0)
                        {
                            return;
                        }

                        filled += n;
                    }

                    bool close = parts[2] == "HTTP/1.0" || string.Equals(Header(lines, "Connection"), "close", StringComparison.OrdinalIgnoreCase);
                    ReadOnlyMemory<byte> body = buffer.AsMemory(headEnd + 4, bodyLength);
                    string peer = trusted ? "the admin socket" : LogNames.Format(client.RemoteEndPoint);
                    AdminResponse response = await AnswerAsync(parts[0], parts[1], lines, body, peer, trusted).ConfigureAwait(false);
                    await SendAsync(client, response, parts[0] == "HEAD", close, timeout.Token).ConfigureAwait(false);
                    if (close)
                    {
                        return;
                    }

                    buffer.AsSpan(total, filled - total).CopyTo(buffer);
                    filled -= total;
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // A slow, vanished or reset admin client only loses its own connection.
            }
        }
    }

    /// <summary>Reads are answered by <see cref="AdminPages"/>; anything else is an action, allowed only with the admin credential.</summary>
    private async Task<AdminResponse> AnswerAsync(string method, string target, string[] lines, ReadOnlyMemory<byte> body, string peer, bool trusted)
    {
        if (AdminAccess.IsReadOnly(method))
        {
            return AdminPages.Render(_host, target);
        }

        string path = target.Split('?', 2)[0];
        if (!trusted && AdminAccess.Refusal(method, path, Header(lines, "Authorization"), _host.Config.Global.AdminToken) is { } refused)
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

    /// <summary>POST /api/reload: the configuration is loaded again (off the socket threads: it may compile scripts).</summary>
    private async Task<AdminResponse> ReloadAsync()
    {
        IReadOnlyList<string> problems = await Task.Run(_host.ReloadConfigurationAsync).ConfigureAwait(false);
        return problems.Count == 0
            ? AdminResponse.Text(200, "configuration reloaded\n")
            : AdminResponse.Text(409, string.Join("\n", problems) + "\n");
    }

    private static string? Header(string[] lines, string name) => lines.Skip(1)
        .Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase)).Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault();

    private static async Task SendAsync(Socket client, AdminResponse response, bool headOnly, bool close, CancellationToken cancellationToken)
    {
        string extra = string.Concat(response.Headers.Select(h => $"{h.Key}: {h.Value}\r\n"));
        string head = $"HTTP/1.1 {response.Status} {AdminResponse.Reason(response.Status)}\r\n" +
                      $"Content-Type: {response.ContentType}\r\nContent-Length: {response.Body.Length}\r\n{extra}" +
                      $"Cache-Control: no-cache\r\nServer: PluginProxy-admin\r\n{(close ? "Connection: close\r\n" : "")}\r\n";
        byte[] bytes = [.. Encoding.ASCII.GetBytes(head), .. (headOnly ? [] : response.Body)];
        await client.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (close)
        {
            client.Shutdown(SocketShutdown.Send);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _tcp?.Dispose();
        _unix?.Dispose();
        if (_socketPath is not null)
        {
            AdminSockets.Remove(_socketPath);
        }

        _stop.Dispose();
    }
}
