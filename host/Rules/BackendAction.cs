using PluginProxy.Abstractions;

namespace PluginProxy.Host.Rules;

/// <summary>
/// <c>backend = "name"</c> (request rules): the stream goes to that backend (the configuration checked that it exists).
/// Where the rules run after <c>http_lb_req</c> (the default), this overrides the route.
/// </summary>
internal sealed class BackendAction(string name) : RuleAction
{
    public override AnalyzerReply? Apply(in RuleInput input)
    {
        input.Stream.Backend = input.Stream.Session.Backends.Find(name)
            ?? throw new ArgumentException($"there is no backend named \"{name}\"");
        return null;
    }
}
