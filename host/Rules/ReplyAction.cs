using PluginProxy.Abstractions;

namespace PluginProxy.Host.Rules;

/// <summary><c>deny</c> and <c>respond</c>: answers with a reply made once, at configuration load (a deny allocates nothing).</summary>
internal sealed class ReplyAction(AnalyzerReply reply) : RuleAction
{
    public override bool Ends => true;

    public override AnalyzerReply? Apply(in RuleInput input) => reply;
}
