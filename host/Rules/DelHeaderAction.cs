using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Host.Rules;

/// <summary><c>del_header</c>: removes every field of each name, from the request or the response.</summary>
internal sealed class DelHeaderAction(string[] names) : RuleAction
{
    public override AnalyzerReply? Apply(in RuleInput input)
    {
        HttpHeaders headers = input.ResponseSide ? input.Http.Response.Headers : input.Http.Request.Headers;
        foreach (string name in names)
        {
            headers.Remove(name);
        }

        return null;
    }
}
