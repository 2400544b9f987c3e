namespace PluginProxy.Host.Rules;

/// <summary>One condition of a declarative rule (<c>path_prefix</c>, <c>src</c>, ...), compiled once at configuration load.</summary>
internal abstract class RuleTest
{
    /// <summary>True when the condition holds for this message. Must not allocate on the common path.</summary>
    public abstract bool Holds(in RuleInput input);
}
