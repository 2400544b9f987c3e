using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Rules;

/// <summary>
/// One <c>[[listener.http_request]]</c> or <c>[[listener.http_response]]</c> table, compiled: it applies when every
/// <c>if</c> condition holds and no <c>unless</c> condition does.
/// </summary>
/// <param name="Spot">Where the rule is written, for errors met while it runs.</param>
/// <param name="Name">The action's key (<c>deny</c>, <c>set_header</c>), for messages.</param>
/// <param name="If">The conditions that must all hold (none: always).</param>
/// <param name="Unless">The conditions none of which may hold.</param>
/// <param name="Action">What the rule does.</param>
internal sealed record HttpRule(SourceSpot Spot, string Name, RuleTest[] If, RuleTest[] Unless, RuleAction Action)
{
    /// <summary>True when the rule applies to this message.</summary>
    public bool Applies(in RuleInput input)
    {
        foreach (RuleTest test in If)
        {
            if (!test.Holds(input))
            {
                return false;
            }
        }

        foreach (RuleTest test in Unless)
        {
            if (test.Holds(input))
            {
                return false;
            }
        }

        return true;
    }
}
