namespace PluginProxy.Host.Logging;

/// <summary>Standard output or standard error (a stream of its own over a duplicate of the descriptor).</summary>
internal sealed class StreamDestination(string name, Stream stream) : LogDestination
{
    public override string Name => name;

    public override void Write(ReadOnlySpan<byte> batch)
    {
        stream.Write(batch);
        stream.Flush();
    }

    public override void Dispose() => stream.Dispose();
}
