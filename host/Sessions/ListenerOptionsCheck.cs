using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Sessions;

/// <summary>
/// The keys of a <c>[[listener]]</c> table that plugins own: each supervisor and analyzer of the listener that implements
/// <see cref="IListenerOptions"/> binds its options (every error reported at its place), and a key that neither the host
/// nor any of them owns is reported as unknown, at the key, as the host's own tables do. When the supervisor could not be
/// resolved (itself an error), the keys it would own are unknown: only keys that are near misses of the host's are reported.
/// A plugin may claim a key of a sub-table the host reads too, dotted (the https supervisor claims <c>tls.alpn</c>); the
/// keys of that table no one claims are reported as unknown in it (<c>[listener.tls] of listener "web"</c>).
/// </summary>
internal static class ListenerOptionsCheck
{
    public static void Run(ListenerConfig config, IEnumerable<(string Name, object Component)> components, bool stackKnown, List<ConfigError> errors)
    {
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
                    errors.Add(new ConfigError(SourceSpot.From(error.Where), error.Message));
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
            string[] known = [.. table.Length == 0 ? ConfigKeys.Listener : ConfigKeys.ListenerSubTables[table].Keys, .. claimedHere.Distinct()];
            string? suggestion = TableReader.Suggest(name, known);
            if (!stackKnown && suggestion is null)
            {
                continue;
            }

            string where = table.Length == 0 ? displayName : $"{ConfigKeys.ListenerSubTables[table].DisplayName} of {displayName}";
            string hint = suggestion is not null ? $"did you mean `{suggestion}`?" : $"known keys are: {string.Join(", ", known)}";
            errors.Add(new ConfigError(key.Spot, $"unknown key `{name}` in {where}; {hint}"));
        }
    }

    /// <summary>The host's sub-table a dotted unread key is in (<c>tls.alpn</c> → tls, alpn), else no table and the whole key.</summary>
    private static (string Table, string Key) SplitSubTable(string key)
    {
        int dot = key.IndexOf('.');
        return dot > 0 && ConfigKeys.ListenerSubTables.ContainsKey(key[..dot]) ? (key[..dot], key[(dot + 1)..]) : ("", key);
    }
}
