using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;
using PluginProxy.Abstractions.Tables;

namespace PluginProxy.Host.Rules;

/// <summary>
/// Runs a listener's declarative rules as one flow analyzer of its chain, where scripts run: each rule whose conditions
/// hold applies its action, in order, until one answers (deny, redirect, respond), which stops the stream. Everything is
/// compiled at configuration load; a message costs the conditions' byte comparisons and what the actions change.
/// </summary>
internal sealed class HttpRuleSet : IFlowAnalyzer
{
    private readonly HttpRule[] _rules;
    private readonly string _display;
    private readonly ILogger _log;
    private readonly HashSet<string> _missingTables = new(StringComparer.Ordinal);

    /// <summary>Creates the analyzer of <paramref name="list"/>, for listener <paramref name="listener"/>.</summary>
    /// <param name="list">The compiled rules.</param>
    /// <param name="listener">The listener's name, for logs.</param>
    /// <param name="tables">The stick tables the counter conditions read, or null when the running configuration provides none.</param>
    /// <param name="log">Where a missing table is logged, once.</param>
    public HttpRuleSet(HttpRuleList list, string listener, IStickTables? tables, ILogger log)
    {
        List = list;
        _rules = [.. list.Rules];
        _display = $"{list.Key} rules of listener \"{listener}\" ({list.Spot})";
        Tables = tables;
        _log = log;
    }

    /// <summary>The rules this analyzer runs.</summary>
    public HttpRuleList List { get; }

    /// <summary>The stick tables counter conditions read, or null.</summary>
    public IStickTables? Tables { get; }

    /// <inheritdoc/>
    public ChannelDirection? Direction => List.Direction;

    /// <inheritdoc/>
    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken) =>
        new(Analyze(stream));

    /// <summary>Runs the rules on the stream's message.</summary>
    /// <exception cref="AnalyzerException">An action could not be applied (its rule's place is in the message).</exception>
    public AnalyzerVerdict Analyze(ProxyStream stream)
    {
        bool responseSide = List.Direction == ChannelDirection.Response;
        if (stream.Http is not { } http || (!responseSide && !http.HasRequest))
        {
            throw new AnalyzerException(_display, $"{_display}: declarative rules need a decoded HTTP message (an http or https listener)");
        }

        var input = new RuleInput(stream, http, responseSide, this);
        foreach (HttpRule rule in _rules)
        {
            if (!rule.Applies(input))
            {
                continue;
            }

            AnalyzerReply? reply;
            try
            {
                reply = rule.Action.Apply(input);
            }
            catch (ArgumentException ex)
            {
                throw new AnalyzerException(_display, $"{rule.Spot}: `{rule.Name}` failed: {ex.Message}", ex);
            }

            if (reply is not null)
            {
                return AnalyzerVerdict.Stop(reply);
            }
        }

        return AnalyzerVerdict.Continue;
    }

    /// <summary>A counter condition named a table the running configuration does not have: logged once per rule set.</summary>
    public void TableMissing(string table)
    {
        lock (_missingTables)
        {
            if (!_missingTables.Add(table))
            {
                return;
            }
        }

        RuleLog.TableMissing(_log, _display, table);
    }

    /// <inheritdoc/>
    public override string ToString() => _display;
}
