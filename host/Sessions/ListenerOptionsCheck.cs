using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Sessions;

/// <summary>
/// The keys of a <c>[[listener]]</c> table that plugins own: each supervisor and analyzer of the listener that implements
/// <see cref="IListenerOptions"/> binds its options (every error reported at its place), and a key that neither the host
/// nor any of them owns is reported as unknown, at the key, as the host's own tables do. When the supervisor could not be
/// resolved (itself an error), the keys it would own are unknown: only keys that are near misses of the host's are reported.
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
        string[] known = [.. ConfigKeys.Listener, .. claimed.Distinct()];
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
    }
}
