using PluginProxy.Abstractions.Tables;

namespace PluginProxy.Host.Rules;

/// <summary>
/// <c>table = { name, counter, gt | ge | lt | le | eq }</c>: a counter of this stream's entry in a stick table, compared
/// with a number. The stream's key is the table's own (<see cref="IStickTable.KeyOf"/>); the entry is looked up, never
/// created (tracking is the listener's <c>track</c>), and a key with no entry counts as zero. A table the running
/// configuration does not have makes the condition false, and is logged once per rule set.
/// </summary>
internal sealed class CounterTest(string table, StickCounter counter, string comparison, double threshold) : RuleTest
{
    /// <summary>The comparisons, as written.</summary>
    public static readonly string[] Comparisons = ["gt", "ge", "lt", "le", "eq"];

    public override bool Holds(in RuleInput input)
    {
        if (input.Tables?.Find(table) is not { } found)
        {
            input.Rules.TableMissing(table);
            return false;
        }

        double value = found.KeyOf(input.Stream) is { } key && found.Find(key) is { } entry ? Read(entry) : 0;
        return comparison switch
        {
            "gt" => value > threshold,
            "ge" => value >= threshold,
            "lt" => value < threshold,
            "le" => value <= threshold,
            _ => value == threshold,
        };
    }

    private double Read(IStickEntry entry) => counter switch
    {
        StickCounter.HttpReqRate => entry.RequestRate,
        StickCounter.HttpReqCnt => entry.Requests,
        StickCounter.ConnCur => entry.Connections,
        StickCounter.HttpErrRate => entry.ErrorRate,
        _ => entry.Errors,
    };
}
