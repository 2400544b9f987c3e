namespace PluginProxy.Tests.Infrastructure;

/// <summary>
/// Tests whose outcome depends on the clock: a short timeout, interval or deadline that must (or must not) pass before
/// something else happens, or a measured latency. xunit runs a collection that disables parallelization after every
/// parallel one has finished, alone, so these never share the machine with tests that force garbage collections (a
/// blocking full collection stops every thread of the process, the proxy under test included) or with other tests'
/// load. Put a test here by giving its class <c>[Collection(TimingSensitive.Name)]</c>; keep such classes small, since
/// they run one after the other.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitive
{
    public const string Name = "Timing-sensitive (runs alone)";
}

/// <summary>
/// Tests that force garbage collections over and over: <c>GC.Collect</c> in a loop until a load context is collected,
/// or the host's own proof of collection run on purpose (a plugin version replaced, removed, or leaked so that the
/// proof keeps collecting until its deadline). One collection, so they run one at a time among themselves; they run in
/// parallel with ordinary tests, never with <see cref="TimingSensitive"/> ones. (Every host that stops retires its
/// plugins, and the host then collects a time or two to prove them gone: that much every end-to-end test does, and
/// is not a reason to be here.)
/// </summary>
[CollectionDefinition(Name)]
public sealed class ForcesGarbageCollection
{
    public const string Name = "Forces garbage collections";
}
