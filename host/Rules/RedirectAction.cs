using PluginProxy.Abstractions;

namespace PluginProxy.Host.Rules;

/// <summary><c>redirect = { location, status }</c>: answers with a redirect; made once when the location has no variable.</summary>
internal sealed class RedirectAction(RuleValue location, int status) : RuleAction
{
    private readonly AnalyzerReply? _fixed = location.IsConstant ? AnalyzerReply.Redirect(location.Constant!, status) : null;

    public override bool Ends => true;

    public override AnalyzerReply? Apply(in RuleInput input) => _fixed ?? AnalyzerReply.Redirect(location.Render(input), status);
}
