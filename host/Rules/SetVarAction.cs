using PluginProxy.Abstractions;

namespace PluginProxy.Host.Rules;

/// <summary><c>set_var = { name, value }</c>: stores a text in the stream's variables, for later rules, scripts and analyzers (<c>Vars["name"]</c>).</summary>
internal sealed class SetVarAction(string name, RuleValue value) : RuleAction
{
    public override AnalyzerReply? Apply(in RuleInput input)
    {
        input.Stream.Variables[name] = value.Render(input);
        return null;
    }
}
