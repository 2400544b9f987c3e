using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2;

/// <summary>Gives the fields <see cref="HpackDecoder"/> decodes to a <see cref="Http2HeadBuilder"/> (a struct: no boxing, no virtual call).</summary>
internal readonly struct Http2HeadSink : IHpackSink
{
    private readonly Http2HeadBuilder _builder;

    /// <summary>A sink feeding <paramref name="builder"/>.</summary>
    public Http2HeadSink(Http2HeadBuilder builder) => _builder = builder;

    /// <inheritdoc/>
    public void OnField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) => _builder?.Add(name, value);
}
