using System.Buffers;
using PluginProxy.Http.Codec.H2;
using static PluginProxy.Tests.Http.H2.H2TestSupport;

namespace PluginProxy.Tests.Http.H2;

public class FrameHeaderTests
{
    [Fact]
    public void WriteThenRead_RoundTrips()
    {
        var header = new FrameHeader(0xABCDEF, Http2FrameType.Headers, Http2FrameFlags.EndHeaders | Http2FrameFlags.Padded, 0x12345678);
        var bytes = new byte[FrameHeader.Size];

        header.Write(bytes);

        Assert.Equal("abcdef010c12345678", ToHex(bytes));
        Assert.True(FrameHeader.TryRead(bytes, out FrameHeader read));
        Assert.Equal(0xABCDEF, read.Length);
        Assert.Equal(Http2FrameType.Headers, read.Type);
        Assert.Equal(Http2FrameFlags.EndHeaders | Http2FrameFlags.Padded, read.Flags);
        Assert.Equal(0x12345678, read.StreamId);
        Assert.True(read.HasFlag(Http2FrameFlags.Padded));
        Assert.False(read.HasFlag(Http2FrameFlags.Priority));
    }

    [Fact]
    public void TheReservedBit_IsIgnored()
    {
        Assert.True(FrameHeader.TryRead(Hex("000004 08 00 80000003"), out FrameHeader header));

        Assert.Equal(3, header.StreamId);
        Assert.Equal(Http2FrameType.WindowUpdate, header.Type);
        Assert.Equal(4, header.Length);
    }

    [Fact]
    public void UnknownTypesAndFlags_AreKept()
    {
        Assert.True(FrameHeader.TryRead(Hex("000000 fa ff 00000000"), out FrameHeader header));

        Assert.Equal((Http2FrameType)0xfa, header.Type);
        Assert.Equal((Http2FrameFlags)0xff, header.Flags);
    }

    [Fact]
    public void FewerThanNineBytes_AreNotAHeader()
    {
        Assert.False(FrameHeader.TryRead(Hex("0000040800800000"), out _));
        Assert.False(FrameHeader.TryRead(new ReadOnlySequence<byte>(Hex("00000408")), out _));
        Assert.Throws<ArgumentException>(() => default(FrameHeader).Write(new byte[8]));
    }

    [Fact]
    public void ASequenceSplitAnywhere_ReadsTheSame()
    {
        byte[] bytes = Hex("00400001 05 00000001 ff");
        for (int split = 1; split < FrameHeader.Size; split++)
        {
            ReadOnlySequence<byte> sequence = split < 5
                ? Segmented(bytes[..split], bytes[split..5], bytes[5..])
                : Segmented(bytes[..split], bytes[split..]);

            Assert.True(FrameHeader.TryRead(sequence, out FrameHeader header));
            Assert.Equal(0x4000, header.Length);
            Assert.Equal(Http2FrameType.Headers, header.Type);
            Assert.Equal(Http2FrameFlags.EndStream | Http2FrameFlags.EndHeaders, header.Flags);
            Assert.Equal(1, header.StreamId);
        }

        Assert.False(FrameHeader.TryRead(Segmented(bytes[..4], bytes[4..8]), out _));
    }

    [Fact]
    public void InvalidFields_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameHeader(FrameHeader.MaxLength + 1, Http2FrameType.Data, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameHeader(-1, Http2FrameType.Data, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameHeader(0, Http2FrameType.Data, 0, -1));
    }

    [Fact]
    public void TheClientPreface_IsTheRfcString()
    {
        Assert.Equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", System.Text.Encoding.ASCII.GetString(Http2Protocol.ClientPreface));
        Assert.Equal(Http2Protocol.ClientPrefaceLength, Http2Protocol.ClientPreface.Length);
        Assert.Equal("505249202a20485454502f322e300d0a0d0a534d0d0a0d0a", ToHex(Http2Protocol.ClientPreface));
    }
}
