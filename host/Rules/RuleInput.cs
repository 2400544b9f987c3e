using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Abstractions.Tables;

namespace PluginProxy.Host.Rules;

/// <summary>What one evaluation of a rule set sees: the stream, its HTTP message, the side, and the stick tables.</summary>
/// <param name="Stream">The stream being analyzed.</param>
/// <param name="Http">Its HTTP message.</param>
/// <param name="ResponseSide">True for <c>[[listener.http_response]]</c> rules.</param>
/// <param name="Rules">The rule set, for what it logs once.</param>
internal readonly record struct RuleInput(ProxyStream Stream, HttpExchange Http, bool ResponseSide, HttpRuleSet Rules)
{
    /// <summary>The request, when there is one (an error page the proxy made for an unparsable request has none).</summary>
    public HttpRequestHead? Request => Http.HasRequest ? Http.Request : null;

    /// <summary>The stick tables of the running configuration, or null when none are provided.</summary>
    public IStickTables? Tables => Rules.Tables;
}
