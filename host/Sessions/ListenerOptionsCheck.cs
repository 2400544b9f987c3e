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
        string[] known = ConfigKeys.Listener.Union(claimed).ToArray();
        foreach (Named key in config.UnreadKeys.Where(k => !claimed.Contains(k.Name)))
        {
            string? suggestion = TableReader.Suggest(key.Name, known);
            if (!stackKnown && suggestion is null)
            {
                continue;
            }

            string hint = suggestion is not null ? $"did you mean `{suggestion}`?" : $"known keys are: {string.Join(", ", known)}";
            errors.Add(new ConfigError(key.Spot, $"unknown key `{key.Name}` in {displayName}; {hint}"));
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
}
