using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Abstractions.Tables;

namespace PluginProxy.Http.Engine;

/// <summary>
/// Consistent hashing and persistence, for every HTTP version: the key <c>balance = "hash"</c> hashes, the server a
/// persistence cookie or a stick-table entry names, the cookie inserted into the response, and the listener's
/// <c>track</c> counters (a request before the analyzers run, an error answer when the stream ends).
/// </summary>
internal sealed partial class HttpConnection
{
    /// <summary>What the balancer may look at for this stream: made once, at the pick (<see cref="PickServer"/>).</summary>
    private ServerSelection MakeSelection(HttpStream stream)
    {
        IBackend backend = stream.Backend!;
        string? key = backend.Balance switch
        {
            BalanceAlgorithm.Uri => stream.Exchange.Request.Path,
            BalanceAlgorithm.Hash => HashKeyOf(backend, stream),
            _ => null,
        };
        return new ServerSelection(_session.Connection.ClientEndPoint, key, PreferredServer(stream, backend));
    }

    /// <summary>
    /// The key of <c>hash_key</c> (the client's address is the selection's own, for <c>source</c>): a header's value, a
    /// cookie's, the path, or what a script set; null when the request has none (the stream then goes round robin).
    /// </summary>
    private string? HashKeyOf(IBackend backend, HttpStream stream)
    {
        HttpHeaders headers = stream.Exchange.Request.Headers;
        switch (backend.HashKeySource)
        {
            case HashKeySource.Uri:
                return stream.Exchange.Request.Path;
            case HashKeySource.Header:
                return headers.Get(backend.HashKeyName!);
            case HashKeySource.Cookie:
                return HttpCookies.TryFind(headers, backend.HashKeyName, out ReadOnlySpan<char> value) ? value.ToString() : null;
            case HashKeySource.Script:
                return _proxyStream.HashKey;
            default:
                return null;
        }
    }

    /// <summary>
    /// The server the request's persistence cookie names (remembered so the response carries no new cookie while it is
    /// the one that serves), else the one the backend's stick table remembers for the stream's key, else null.
    /// </summary>
    private IServer? PreferredServer(HttpStream stream, IBackend backend)
    {
        if (backend.PersistCookie is { } cookie && HttpCookies.TryFind(stream.Exchange.Request.Headers, cookie, out ReadOnlySpan<char> named)
            && ServerNamed(backend, named) is { } byCookie)
        {
            stream.CookieServer = byCookie;
            return byCookie;
        }

        if (backend.StickTable?.FindOf(_proxyStream) is { Server: { } sticky } && sticky.Length > backend.Name.Length + 1
            && sticky.StartsWith(backend.Name, StringComparison.Ordinal) && sticky[backend.Name.Length] == '/')
        {
            return ServerNamed(backend, sticky.AsSpan(backend.Name.Length + 1));
        }

        return null;
    }

    private static IServer? ServerNamed(IBackend backend, ReadOnlySpan<char> name)
    {
        IReadOnlyList<IServer> servers = backend.Servers;
        for (int i = 0; i < servers.Count; i++)
        {
            if (name.SequenceEqual(servers[i].Name))
            {
                return servers[i];
            }
        }

        return null;
    }

    /// <summary>
    /// The server answered: a backend with a persistence <c>cookie</c> tells the client which server it was (unless the
    /// request's cookie named that one already), and one with a <c>stick_table</c> remembers it for the stream's key.
    /// </summary>
    private void Persist(HttpStream stream)
    {
        if (stream.Backend is not { } backend || stream.Log.Server is not { } served)
        {
            return;
        }

        if (backend.PersistCookie is { } cookie && !ReferenceEquals(stream.CookieServer, served))
        {
            stream.Exchange.Response.Headers.Add("Set-Cookie", $"{cookie}={served.Name}; Path=/; HttpOnly");
        }

        if (backend.StickTable?.TrackOf(_proxyStream) is { } entry && !Names(entry.Server, backend, served))
        {
            entry.Server = $"{backend.Name}/{served.Name}";
        }
    }

    /// <summary>True when <paramref name="value"/> is <c>backend/server</c> of these two (compared without building it).</summary>
    private static bool Names(string? value, IBackend backend, IServer server) =>
        value is not null && value.Length == backend.Name.Length + 1 + server.Name.Length && value.StartsWith(backend.Name, StringComparison.Ordinal)
        && value[backend.Name.Length] == '/' && value.EndsWith(server.Name, StringComparison.Ordinal);

    /// <summary>Counts the request in the stick tables the listener tracks (before its analyzers and scripts look at them).</summary>
    private void CountTracked(HttpStream stream)
    {
        IReadOnlyList<IStickTable> tables = _settings.Track;
        for (int i = 0; i < tables.Count; i++)
        {
            if (tables[i].TrackOf(_proxyStream) is { } entry)
            {
                entry.CountRequest();
                (stream.Tracked ??= []).Add(entry);
            }
        }
    }

    /// <summary>At the stream's end: a 5xx, or a 4xx the proxy answered itself, counts as an error of the tracked keys.</summary>
    private static void CountTrackedErrors(HttpStream stream)
    {
        if (stream.Tracked is not { Count: > 0 } tracked)
        {
            return;
        }

        int status = stream.Log.Status;
        if (status >= 500 || (status >= 400 && stream.Log.End != SessionTermination.Normal))
        {
            foreach (IStickEntry entry in tracked)
            {
                entry.CountError();
            }
        }

        tracked.Clear();
    }
}
