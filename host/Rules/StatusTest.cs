namespace PluginProxy.Host.Rules;

/// <summary><c>status</c> (response rules only): the response's status is one of these.</summary>
internal sealed class StatusTest(int[] statuses) : RuleTest
{
    public override bool Holds(in RuleInput input) =>
        input.Http.HasResponse && Array.IndexOf(statuses, input.Http.Response.Status) >= 0;
}
