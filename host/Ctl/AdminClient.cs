using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Ctl;

/// <summary>
/// How <c>pluginproxy ctl</c> reaches a running proxy's admin endpoint: an explicit <c>--url</c> or <c>--socket</c>, or
/// what the configuration file says (<c>admin_socket</c> first: its file permissions are the credential; else
/// <c>admin</c> with the token of <c>admin_token_file</c>).
/// </summary>
internal sealed class AdminClient : IDisposable
{
    private readonly HttpClient _http;

    private AdminClient(HttpClient http, string describe)
    {
        _http = http;
        Describe = describe;
    }

    /// <summary>Where it talks to, for messages.</summary>
    public string Describe { get; }

    /// <summary>Builds the client; null with the problem when nothing says where the admin endpoint is.</summary>
    public static AdminClient? Create(string? url, string? socket, string? tokenFile, string configPath, out string? problem)
    {
        problem = null;
        string? token = null;
        if (url is null && socket is null)
        {
            var errors = new List<ConfigError>();
            if (ConfigLoader.Read(configPath, errors) is not { } config)
            {
                problem = $"cannot find the admin endpoint in {configPath}: " + string.Join("; ", errors.Select(e => e.ToString()));
                return null;
            }

            socket = config.Global.AdminSocket;
            if (socket is null && config.Global.Admin is { } admin)
            {
                if (admin.Port == 0)
                {
                    problem = $"{configPath} binds the admin endpoint to port 0; say where it listens with --url";
                    return null;
                }

                System.Net.IPAddress host = admin.Address.Equals(System.Net.IPAddress.Any) ? System.Net.IPAddress.Loopback
                    : admin.Address.Equals(System.Net.IPAddress.IPv6Any) ? System.Net.IPAddress.IPv6Loopback : admin.Address;
                url = $"http://{EndPoints.Format(new System.Net.IPEndPoint(host, admin.Port))}/";
                tokenFile ??= config.Global.AdminTokenFile?.Path;
            }

            if (socket is null && url is null)
            {
                problem = $"{configPath} has no admin endpoint (`admin` or `admin_socket` in [global]); or say where it is with --url or --socket";
                return null;
            }
        }

        if (tokenFile is not null)
        {
            try
            {
                token = File.ReadAllText(tokenFile).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problem = $"cannot read the admin token from {tokenFile}: {ex.Message}";
                return null;
            }
        }

        HttpClient http;
        string describe;
        if (socket is not null)
        {
            string path = socket;
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await unix.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                        return new NetworkStream(unix, ownsSocket: true);
                    }
                    catch
                    {
                        unix.Dispose();
                        throw;
                    }
                },
            };
            http = new HttpClient(handler) { BaseAddress = new Uri("http://admin/") };
            describe = path;
        }
        else
        {
            if (!Uri.TryCreate(url!.EndsWith('/') ? url : url + "/", UriKind.Absolute, out Uri? baseAddress) || baseAddress.Scheme != "http")
            {
                problem = $"--url {url} is not an http:// address such as http://127.0.0.1:8404";
                return null;
            }

            http = new HttpClient { BaseAddress = baseAddress };
            describe = baseAddress.ToString();
        }

        http.Timeout = TimeSpan.FromSeconds(30);
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return new AdminClient(http, describe);
    }

    /// <summary>Sends one request: the status and the body.</summary>
    public async Task<(int Status, string Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await _http.SendAsync(request).ConfigureAwait(false);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync().ConfigureAwait(false));
    }

    public void Dispose() => _http.Dispose();
}
