using PluginProxy.Abstractions;

namespace PluginProxy.Host.Rules;

/// <summary>The one action of a declarative rule, compiled once at configuration load.</summary>
internal abstract class RuleAction
{
    /// <summary>True when the action answers instead of the server (deny, redirect, respond): the rules after it do not run.</summary>
    public virtual bool Ends => false;

    /// <summary>Applies the action to the message; returns the reply when it answers.</summary>
    /// <exception cref="ArgumentException">The message cannot take the change (a header value a variable filled with a control character).</exception>
    public abstract AnalyzerReply? Apply(in RuleInput input);
}
