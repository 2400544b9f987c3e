namespace PluginProxy.Abstractions;

/// <summary>
/// Implemented by a supervisor or analyzer that reads settings of its own from the listener's <c>options</c> table
/// (<see cref="ListenerSettings.Options"/>). The host calls it whenever it builds a listener's pipeline (at start, on a
/// configuration reload, when a new plugin version is swapped in), so that a bad value is refused then, with the file,
/// line and column of the key, instead of being met by the first request.
/// </summary>
public interface IOptionsCheck
{
    /// <summary>Checks the options this component reads for <paramref name="listener"/>; must not throw.</summary>
    /// <returns>One entry per problem; empty when the options are fine (or absent and the defaults apply).</returns>
    IEnumerable<OptionProblem> CheckOptions(ListenerSettings listener);
}

/// <summary>A problem with one key of a listener's <c>options</c> table.</summary>
/// <param name="Key">The key under <c>options</c>, dotted for nested tables (<c>rate_limit.requests</c>).</param>
/// <param name="Message">What is wrong and what would be right, e.g. "must be a positive integer, not -1".</param>
public readonly record struct OptionProblem(string Key, string Message);
