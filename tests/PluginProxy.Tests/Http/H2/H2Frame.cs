using System.Buffers.Binary;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>A frame received by <see cref="H2FrameClient"/>.</summary>
internal sealed record H2Frame(FrameHeader Header, byte[] Payload)
{
    public Http2FrameType Type => Header.Type;

    public int StreamId => Header.StreamId;

    public bool Has(Http2FrameFlags flag) => Header.HasFlag(flag);

    /// <summary>The error code of a RST_STREAM or GOAWAY frame.</summary>
    public Http2ErrorCode ErrorCode => (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(Type == Http2FrameType.GoAway ? Payload.AsSpan(4) : Payload);

    /// <summary>The last stream id of a GOAWAY frame.</summary>
    public int LastStreamId => (int)BinaryPrimitives.ReadUInt32BigEndian(Payload);

    public override string ToString() => Header.ToString();
}
