using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Sessions;

/// <summary>
/// The keys of a <c>[[listener]]</c> table that plugins own: each supervisor and analyzer of the listener that implements
/// <see cref="IListenerOptions"/> binds its options (every error reported at its place), and a key that neither the host
/// nor any of them owns is reported as unknown, at the key, as the host's own tables do. When the supervisor could not be
/// resolved (itself an error), the keys it would own are unknown: only keys that are near misses of the host's are reported.
/// The conditions of routes are the plugins' too: the host reads only each route's <c>backend</c>, and a condition on a
/// listener where no component claims <c>route</c> is refused, at the key, rather than ignored.
/// A plugin may claim a key of a sub-table the host reads too, dotted (the https supervisor claims <c>tls.alpn</c>); the
/// keys of that table no one claims are reported as unknown in it (<c>[listener.tls] of listener "web"</c>).
/// </summary>
internal static class ListenerOptionsCheck
{
    private const string RouteKey = "route";

    public static void Run(ListenerConfig config, IEnumerable<(string Name, object Component)> components, bool stackKnown, List<ConfigError> errors)
    {
        // A plugin binding a value the host reads too (a route's `backend`) finds what the host found there: said once.
        HashSet<SourceSpot> reported = errors.Select(e => e.Where).ToHashSet();
        var claimed = new List<string>();
        foreach ((string name, object component) in components)
        {
            if (component is not IListenerOptions owner)
            {
                continue;
            }

            try
            {
                claimed.AddRange(owner.ListenerKeys);
                foreach (OptionError error in owner.CheckListener(config.Settings))
                {
                    var spot = SourceSpot.From(error.Where);
                    if (!reported.Contains(spot))
                    {
                        errors.Add(new ConfigError(spot, error.Message));
                    }
                }
            }
            catch (Exception ex)
            {
                errors.Add(new ConfigError(config.Spot, $"{name} failed while reading the listener's options: {ex.GetType().Name}: {ex.Message}"));
            }
        }

        string displayName = config.Name.Length == 0 ? "[[listener]]" : $"listener \"{config.Name}\"";
        foreach (Named key in config.UnreadKeys.Where(k => !claimed.Contains(k.Name)))
        {
            // A key of [listener.tls] arrives dotted (tls.alpn): it is checked against that table's keys, the host's and the claimed ones.
            (string table, string name) = SplitSubTable(key.Name);
            string prefix = table.Length == 0 ? "" : table + ".";
            IEnumerable<string> claimedHere = claimed.Where(c => c.StartsWith(prefix, StringComparison.Ordinal) && c.IndexOf('.', prefix.Length) < 0)
                .Select(c => c[prefix.Length..]);
            string[] known = (table.Length == 0 ? ConfigKeys.Listener : ConfigKeys.ListenerSubTables[table].Keys).Union(claimedHere).ToArray();
            string? suggestion = TableReader.Suggest(name, known);
            if (!stackKnown && suggestion is null)
            {
                continue;
            }

            string where = table.Length == 0 ? displayName : $"{ConfigKeys.ListenerSubTables[table].DisplayName} of {displayName}";
            string hint = suggestion is not null ? $"did you mean `{suggestion}`?" : $"known keys are: {string.Join(", ", known)}";
            errors.Add(new ConfigError(key.Spot, $"unknown key `{name}` in {where}; {hint}"));
        }

        if (stackKnown && !claimed.Contains(RouteKey))
        {
            RejectUnclaimedConditions(config, errors);
        }
    }

    /// <summary>Every key of a route but <c>backend</c>, on a listener none of whose components reads routes.</summary>
    private static void RejectUnclaimedConditions(ListenerConfig config, List<ConfigError> errors)
    {
        if (config.Settings.Table.Find(RouteKey)?.Value is not OptionArray routes)
        {
            return;
        }

        foreach (OptionTable route in routes.Items.OfType<OptionTable>())
        {
            foreach (OptionEntry condition in route.Entries.Where(e => e.Key != "backend"))
            {
                errors.Add(new ConfigError(SourceSpot.From(condition.KeySpot),
                    $"route `{condition.Key}` has no effect with supervisor \"{config.Supervisor.Name}\": none of the listener's supervisors and analyzers reads route conditions"));
            }
        }
    }

    /// <summary>The host's sub-table a dotted unread key is in (<c>tls.alpn</c> → tls, alpn), else no table and the whole key.</summary>
    private static (string Table, string Key) SplitSubTable(string key)
    {
        int dot = key.IndexOf('.');
        return dot > 0 && ConfigKeys.ListenerSubTables.ContainsKey(key[..dot]) ? (key[..dot], key[(dot + 1)..]) : ("", key);
    }
}
