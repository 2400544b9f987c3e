using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Rules;

/// <summary>
/// Reads a listener's <c>[[listener.http_request]]</c> or <c>[[listener.http_response]]</c> tables: each an optional
/// <c>if</c> and <c>unless</c> table of conditions and exactly one action, compiled once here. Every mistake (an unknown
/// key, two actions, a bad status, network or regular expression) is reported at its <c>file:line:column</c>.
/// </summary>
internal static class RuleReader
{
    private static readonly string[] ConditionTables = ["if", "unless"];

    /// <summary>The rules under <paramref name="key"/> of <paramref name="listener"/>, or null when it has none (or they have errors).</summary>
    /// <param name="listener">The <c>[[listener]]</c> table.</param>
    /// <param name="key"><see cref="HttpRuleList.RequestKey"/> or <see cref="HttpRuleList.ResponseKey"/>.</param>
    /// <param name="backends">Told each backend a rule names, where it is written.</param>
    public static HttpRuleList? Read(TableReader listener, string key, Action<Named> backends)
    {
        if (!listener.Has(key))
        {
            return null;
        }

        ChannelDirection side = key == HttpRuleList.RequestKey ? ChannelDirection.Request : ChannelDirection.Response;
        List<TableReader> tables = listener.TableArray(key, $"a rule of {listener.DisplayName}");
        var rules = new List<HttpRule>(tables.Count);
        bool valid = true;
        for (int i = 0; i < tables.Count; i++)
        {
            TableReader table = tables[i];
            table.DisplayName = $"rule {i + 1} of [[listener.{key}]] in {listener.DisplayName}";
            if (ReadRule(table, key, side, backends) is { } rule)
            {
                rules.Add(rule);
            }
            else
            {
                valid = false;
            }
        }

        return valid && rules.Count > 0 ? new HttpRuleList(key, side, rules[0].Spot, rules) : null;
    }

    private static HttpRule? ReadRule(TableReader table, string key, ChannelDirection side, Action<Named> backends)
    {
        RuleTest[]? conditions = Conditions(table, "if", side);
        RuleTest[]? exceptions = Conditions(table, "unless", side);
        TomlEntry[] actions = table.Table.Entries.Where(e => RuleActionReader.Keys.Contains(e.Key)).ToArray();
        RuleAction? action = null;
        string[] known = [.. ConditionTables, .. RuleActionReader.Keys];
        if (actions.Length == 0 && table.Table.Entries.All(e => known.Contains(e.Key)))
        {
            table.Error(table.Spot, $"{table.DisplayName} has no action; give it one of: {string.Join(", ", RuleActionReader.Keys)}");
        }
        else if (actions.Length > 1)
        {
            foreach (TomlEntry extra in actions)
            {
                extra.Used = true;
            }

            table.Error(actions[1].KeySpot, $"{table.DisplayName} has two actions, `{actions[0].Key}` and `{actions[1].Key}`: a rule has one; "
                + $"write another [[listener.{key}]] with the same conditions for `{actions[1].Key}`");
        }
        else if (actions.Length == 1)
        {
            action = RuleActionReader.Read(table, actions[0].Key, side, backends);
        }

        // A rule whose only action is misspelt (`dney`) is reported once, as an unknown key with the suggestion.
        table.RejectUnknownKeys(known);
        return conditions is null || exceptions is null || action is null || actions.Length != 1
            ? null
            : new HttpRule(table.Spot, actions[0].Key, conditions, exceptions, action);
    }

    /// <summary>The conditions of the rule's <paramref name="key"/> table (none when absent), or null when it has errors.</summary>
    private static RuleTest[]? Conditions(TableReader table, string key, ChannelDirection side)
    {
        if (!table.Has(key))
        {
            return [];
        }

        if (table.SubTable(key, $"`{key}` of {table.DisplayName}") is not { } conditions)
        {
            return null;
        }

        int before = conditions.Table.Entries.Count(e => !e.Used);
        RuleTest[] tests = RuleConditionReader.Read(conditions, side);
        if (before == 0)
        {
            conditions.Error(conditions.Spot, $"`{key}` is empty; give it conditions ({string.Join(", ", RuleConditionReader.Keys)}) or remove it");
            return null;
        }

        return tests.Length == before ? tests : null;
    }
}
