using System.Net;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Abstractions.Scripting;

/// <summary>
/// What a rule script (<c>.csx</c>) runs against. The body of a rule script becomes the body of a method of a class
/// derived from this one, run once per request (in <c>request_analyzers</c>) or per response (in
/// <c>response_analyzers</c>); everything here is in scope without qualification: <c>Request</c>, <c>Deny()</c>, ...
/// A rule that does nothing lets the message continue unchanged.
/// </summary>
/// <remarks>
/// Instances are pooled and reused by the host: a rule's instance fields do not survive from one request to the next
/// reliably; <c>static</c> fields are shared by every request (and by concurrent ones).
/// </remarks>
public abstract class Rule
{
    private ProxyStream? _stream;
    private bool _responseSide;
    private AnalyzerReply? _reply;
    private Action<string>? _log;

    /// <summary>The request: method, path, query, host, headers (all changeable).</summary>
    /// <exception cref="InvalidOperationException">The listener is not HTTP.</exception>
    public HttpRequestHead Request => Http.Request;

    /// <summary>
    /// The response: status, reason, headers (changeable). Only in response rules, including after-response ones, which
    /// also see the proxy's own replies (there, an error page may answer a request that could not be parsed).
    /// </summary>
    /// <exception cref="InvalidOperationException">This is a request rule: there is no response yet.</exception>
    public HttpResponseHead Response => _responseSide
        ? Stream.Http is { HasResponse: true } answered ? answered.Response : Http.Response
        : throw new InvalidOperationException("Response is only available to response rules (listed in response_analyzers or after_response_analyzers)");

    /// <summary>True in a response rule.</summary>
    public bool IsResponse => _responseSide;

    /// <summary>The client's address and port (from a PROXY header when the listener accepts one).</summary>
    public IPEndPoint Client => Stream.Session.Connection.ClientEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);

    /// <summary>True when the client connection is TLS.</summary>
    public bool IsTls => Stream.Session.Tls is not null;

    /// <summary>What the TLS handshake with the client settled (<c>ServerName</c>, <c>ApplicationProtocol</c>, <c>Version</c>, ...), or null for plain TCP.</summary>
    public TlsInfo? Tls => Stream.Session.Tls;

    /// <summary>The server name the client asked for in its TLS handshake (SNI), or null.</summary>
    public string? Sni => Stream.Session.Tls?.ServerName;

    /// <summary>The name of the listener the request arrived on.</summary>
    public string Listener => Stream.Session.Listener.Name;

    /// <summary>Variables of this stream, shared with the other rules and analyzers that see it.</summary>
    public IDictionary<string, object?> Vars => Stream.Variables;

    /// <summary>The stream itself, for what the shortcuts here do not cover.</summary>
    public ProxyStream Stream => _stream ?? throw new InvalidOperationException("the rule is not running");

    /// <summary>
    /// The backend the request goes to (null when none is chosen yet). Setting it picks another backend by name.
    /// </summary>
    /// <exception cref="ArgumentException">No backend has that name.</exception>
    public string? Backend
    {
        get => Stream.Backend?.Name;
        set
        {
            if (value is null)
            {
                Stream.Backend = null;
                return;
            }

            Stream.Backend = Stream.Session.Backends.Find(value)
                ?? throw new ArgumentException($"there is no backend named \"{value}\"; defined: {string.Join(", ", Stream.Session.Backends.All.Select(b => b.Name))}");
        }
    }

    /// <summary>
    /// The key <c>balance = "hash"</c> hashes when the backend says <c>hash_key = "script"</c> (the stream's
    /// <see cref="ProxyStream.HashKey"/>): set it in a request rule, before the server is picked. Null balances round robin.
    /// </summary>
    public string? HashKey
    {
        get => Stream.HashKey;
        set => Stream.HashKey = value;
    }

    /// <summary>The stick table named <paramref name="name"/> (<c>[[stick_table]]</c>), or null when the configuration has none of that name.</summary>
    public Tables.IStickTable? Table(string name) => Stream.Session.StickTables?.Find(name);

    /// <summary>
    /// This stream's entry in the stick table named <paramref name="name"/> (its counters: <c>RequestRate</c>,
    /// <c>Requests</c>, <c>ErrorRate</c>, ...), or null when there is no such table, the stream has no key for it, or the
    /// key has no entry. A listener that lists the table in <c>track</c> counted this request before its rules run:
    /// <c>if (Tracked("clients")?.RequestRate > 100) Deny(429);</c>. Looking does not touch the entry's expiry.
    /// </summary>
    public Tables.IStickEntry? Tracked(string name) => Table(name)?.FindOf(Stream);

    /// <summary>
    /// The shared stores (<c>[[store]]</c>): counters every instance of the proxy adds to, counted here without waiting
    /// for the store, e.g. <c>if (Stores.Find("shared")?.Increment("login:" + Client.Address, TimeSpan.FromMinutes(1)) > 5) Deny(429);</c>.
    /// A host without stores gives an empty list, in which <c>Find</c> finds nothing.
    /// </summary>
    public Stores.IStores Stores => Stream.Session.Stores ?? NoStores.Instance;

    /// <summary>True when a reply was set (by <see cref="Deny"/>, <see cref="Redirect"/> or <see cref="Respond(int, string, string)"/>).</summary>
    public bool Replied => _reply is not null;

    /// <summary>Stops the request with <paramref name="status"/> (403 by default) and a short text body. The first reply set wins; return after it.</summary>
    public void Deny(int status = 403, string? message = null) =>
        SetReply(AnalyzerReply.Text(status, message ?? "Forbidden\n"));

    /// <summary>Answers with a redirect to <paramref name="location"/> (302 by default).</summary>
    public void Redirect(string location, int status = 302) => SetReply(AnalyzerReply.Redirect(location, status));

    /// <summary>Answers directly, without a server: <paramref name="status"/> and a body.</summary>
    public void Respond(int status, string body = "", string contentType = "text/plain; charset=utf-8") =>
        SetReply(AnalyzerReply.Text(status, body, contentType));

    /// <summary>Answers directly with extra headers.</summary>
    public void Respond(int status, string body, params (string Name, string Value)[] headers)
    {
        var all = new List<KeyValuePair<string, string>>(headers.Length + 1);
        foreach ((string name, string value) in headers)
        {
            all.Add(new KeyValuePair<string, string>(name, value));
        }

        if (!all.Exists(h => h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)))
        {
            all.Add(new KeyValuePair<string, string>("Content-Type", "text/plain; charset=utf-8"));
        }

        SetReply(new AnalyzerReply(status, System.Text.Encoding.UTF8.GetBytes(body), all) { Close = false });
    }

    /// <summary>Replaces the start of the path: <c>RewritePathPrefix("/old/", "/new/")</c>. True when the path started with it.</summary>
    public bool RewritePathPrefix(string from, string to)
    {
        string path = Request.Path;
        if (!path.StartsWith(from, StringComparison.Ordinal))
        {
            return false;
        }

        Request.Path = to + path[from.Length..];
        return true;
    }

    /// <summary>True when the client address is inside one of <paramref name="networks"/> (IPv4-mapped addresses count as IPv4).</summary>
    public bool ClientIn(params IPNetwork[] networks)
    {
        IPAddress address = Client.Address.IsIPv4MappedToIPv6 ? Client.Address.MapToIPv4() : Client.Address;
        foreach (IPNetwork network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Writes a line to the proxy's log, naming the script.</summary>
    public void Log(string message) => _log?.Invoke(message);

    private void SetReply(AnalyzerReply reply) => _reply ??= reply;

    private HttpExchange Http => Stream.Http is { HasRequest: true } http
        ? http
        : throw new InvalidOperationException("this rule runs where there is no parsed HTTP request (a tcp listener, or before http_lb_req)");

    /// <summary>The rule's body (the script). Generated from the script; not for scripts to call.</summary>
    protected abstract ValueTask RunAsync();

    /// <summary>For the host: runs the rule for one message of <paramref name="stream"/> and says what happens next.</summary>
    public async ValueTask<AnalyzerVerdict> InvokeAsync(ProxyStream stream, bool responseSide, Action<string>? log)
    {
        _stream = stream;
        _responseSide = responseSide;
        _reply = null;
        _log = log;
        try
        {
            await RunAsync().ConfigureAwait(false);
            return _reply is { } reply ? AnalyzerVerdict.Stop(reply) : AnalyzerVerdict.Continue;
        }
        finally
        {
            _stream = null;
            _reply = null;
            _log = null;
        }
    }
}
