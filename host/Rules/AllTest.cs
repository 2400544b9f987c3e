namespace PluginProxy.Host.Rules;

/// <summary>Several conditions of one key (a list of <c>header</c> or <c>table</c> conditions): all must hold.</summary>
internal sealed class AllTest(RuleTest[] tests) : RuleTest
{
    public override bool Holds(in RuleInput input)
    {
        foreach (RuleTest test in tests)
        {
            if (!test.Holds(input))
            {
                return false;
            }
        }

        return true;
    }
}
