namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// Receives the fields <see cref="HpackDecoder"/> decodes, in order. Implement it on a struct (or a ref struct) and pass
/// it by reference: the decoder is generic over the sink, so no call is virtual and nothing is boxed.
/// </summary>
internal interface IHpackSink
{
    /// <summary>
    /// One decoded field. The spans are valid only during the call (they point into the block, the decoder's scratch
    /// buffer or its dynamic table): copy what is kept. Names are the bytes as received (HTTP/2 requires lowercase; that
    /// and the other field rules of RFC 9113 §8.2 are the caller's checks).
    /// </summary>
    /// <param name="name">The field name.</param>
    /// <param name="value">The field value.</param>
    /// <param name="neverIndexed">
    /// True when the field was sent as "never indexed" (RFC 7541 §6.2.3): an intermediary re-encoding it must keep that
    /// representation.
    /// </param>
    void OnField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed);
}
