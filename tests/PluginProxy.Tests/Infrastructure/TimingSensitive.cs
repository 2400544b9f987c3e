namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// Tests that wait on timing under load or count garbage collections. xunit runs this collection on its own, after the
/// parallel ones and one test at a time, so that neither another test's load nor a collection it forces disturbs them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitive
{
    public const string Name = "timing-sensitive";
}
