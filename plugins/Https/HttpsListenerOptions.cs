using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;

namespace PluginProxy.Https;

/// <summary>
/// The keys of a listener's <c>[listener.tls]</c> that the https supervisor owns, bound from the <c>tls</c> table of
/// <see cref="ListenerSettings.Table"/> once per listener configuration (<see cref="HttpsSupervisor.CheckListener"/>).
/// The host reads the rest of that table (<c>certificates</c>, <c>strict_sni</c>, <c>min_version</c>): they are about
/// loading certificates and the handshake it prepares, whereas the application protocols are the supervisor's to speak.
/// </summary>
public sealed class HttpsListenerOptions
{
    /// <summary>The protocols the http supervisor behind https speaks, as ALPN names them.</summary>
    private static readonly string[] Spoken = ["h2", "http/1.1", "http/1.0"];

    /// <summary>The options of a listener that sets none of these keys.</summary>
    public static HttpsListenerOptions Default { get; } = new();

    /// <summary>
    /// <c>alpn</c>: the application protocols offered by ALPN, in preference order: <c>h2</c>, <c>http/1.1</c>,
    /// <c>http/1.0</c> (default <c>["h2", "http/1.1"]</c>). A client that offers none of them gets a
    /// <c>no_application_protocol</c> alert; a client that offers no ALPN at all is served HTTP/1.x.
    /// </summary>
    public IReadOnlyList<string> Alpn { get; init; } = ["h2", "http/1.1"];

    /// <summary>The keys claimed in the listener's table, dotted under <c>tls</c> (<c>tls.alpn</c>).</summary>
    internal static IReadOnlyCollection<string> ListenerKeys { get; } = OptionsBinder.KeysOf<HttpsListenerOptions>().Select(k => "tls." + k).ToArray();

    /// <summary>
    /// Binds the keys of <paramref name="listener"/>'s <c>[listener.tls]</c> this class owns and checks each protocol,
    /// every error at its value. A <c>tls</c> that is not a table is the host's to report: the defaults stand in.
    /// </summary>
    public static OptionsBinding<HttpsListenerOptions> Bind(ListenerSettings listener)
    {
        OptionTable? tls = listener.Table.Find("tls")?.Value as OptionTable;

        // Bound as the table's own keys (path ""), so that messages name `alpn` as [listener.tls] spells it.
        OptionsBinding<HttpsListenerOptions> bound = OptionsBinder.Bind<HttpsListenerOptions>(tls, claimsTable: false);
        if (!bound.IsValid || tls?.Find("alpn")?.Value is not { } alpn)
        {
            return bound;
        }

        List<OptionError> errors = CheckAlpn(alpn);
        return errors.Count == 0 ? bound : new OptionsBinding<HttpsListenerOptions>(Default, errors);
    }

    /// <summary>Each protocol of <c>alpn</c> (a string or a list of strings: the binder checked the types) at its place.</summary>
    private static List<OptionError> CheckAlpn(OptionNode alpn)
    {
        var errors = new List<OptionError>();
        IReadOnlyList<OptionNode> items = alpn is OptionArray array ? array.Items : [alpn];
        if (items.Count == 0)
        {
            errors.Add(new OptionError(alpn.Spot, "`alpn` needs at least one protocol, such as [\"http/1.1\"]"));
        }

        foreach (OptionNode item in items)
        {
            string protocol = (string)((OptionValue)item).Value;
            if (Spoken.Contains(protocol))
            {
                continue;
            }

            errors.Add(new OptionError(item.Spot, protocol is "h3"
                ? $"`alpn` \"{protocol}\" is not supported yet; the https supervisor speaks HTTP/2 and HTTP/1.x: use [\"h2\", \"http/1.1\"]"
                : $"`alpn` \"{protocol}\" is not a protocol the https supervisor speaks; use [\"h2\", \"http/1.1\"]"));
        }

        return errors;
    }
}
