using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Rules;

/// <summary>
/// A listener's <c>[[listener.http_request]]</c> (or <c>[[listener.http_response]]</c>) rules as the configuration
/// compiled them, in order; <see cref="HttpRuleSet"/> runs them as a flow analyzer.
/// </summary>
/// <param name="Key">The listener key they come from: <c>http_request</c> or <c>http_response</c>, also the name that places them among the analyzers.</param>
/// <param name="Direction">The channel they run on.</param>
/// <param name="Spot">Where the first rule is written.</param>
/// <param name="Rules">The rules, in order.</param>
internal sealed record HttpRuleList(string Key, ChannelDirection Direction, SourceSpot Spot, IReadOnlyList<HttpRule> Rules)
{
    /// <summary>The listener key (and analyzer name) of request rules.</summary>
    public const string RequestKey = "http_request";

    /// <summary>The listener key (and analyzer name) of response rules.</summary>
    public const string ResponseKey = "http_response";
}
