using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Host.Rules;

/// <summary>
/// <c>set_header</c> (replaces every field of the name) and <c>add_header</c> (appends one) on the request in request
/// rules, on the response in response rules.
/// </summary>
internal sealed class HeaderAction(bool add, string name, RuleValue value) : RuleAction
{
    public override AnalyzerReply? Apply(in RuleInput input)
    {
        HttpHeaders headers = input.ResponseSide ? input.Http.Response.Headers : input.Http.Request.Headers;
        string text = value.Render(input);
        if (add)
        {
            headers.Add(name, text);
        }
        else
        {
            headers.Set(name, text);
        }

        return null;
    }
}
