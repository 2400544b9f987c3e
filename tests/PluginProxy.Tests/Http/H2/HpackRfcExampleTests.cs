using PluginProxy.Http.Codec.H2;
using static PluginProxy.Tests.Http.H2.H2TestSupport;

namespace PluginProxy.Tests.Http.H2;

/// <summary>Every example of RFC 7541 Appendix C, decoded exactly, with the dynamic table after each block.</summary>
public class HpackRfcExampleTests
{
    [Theory]
    [InlineData(10, 5, "0a")]
    [InlineData(1337, 5, "1f9a0a")]
    [InlineData(42, 8, "2a")]
    public void C1_Integers_EncodeAndDecode(int value, int prefixBits, string hex)
    {
        byte[] encoded = Hex(hex);

        Assert.Equal(HpackError.None, HpackInteger.Decode(encoded, prefixBits, out int decoded, out int consumed));
        Assert.Equal(value, decoded);
        Assert.Equal(encoded.Length, consumed);

        var buffer = new byte[8];
        Assert.True(HpackInteger.TryEncode(buffer, value, prefixBits, 0, out int written));
        Assert.Equal(hex, ToHex(buffer.AsSpan(0, written)));
        Assert.Equal(written, HpackInteger.EncodedLength(value, prefixBits));
    }

    [Fact]
    public void C1_PrefixIgnoresTheRepresentationBits()
    {
        Assert.Equal(HpackError.None, HpackInteger.Decode(Hex("ea"), 5, out int value, out _));
        Assert.Equal(10, value);
    }

    [Fact]
    public void C2_1_LiteralWithIndexing_AddsToTheTable()
    {
        var decoder = new HpackDecoder();

        var (error, fields) = Decode(decoder, Hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));

        Assert.Equal(HpackError.None, error);
        Assert.Equal([("custom-key", "custom-header", false)], fields);
        Assert.Equal([("custom-key", "custom-header")], Entries(decoder.Table));
        Assert.Equal(55, decoder.Table.Size);
    }

    [Fact]
    public void C2_2_LiteralWithoutIndexing_LeavesTheTableEmpty()
    {
        var decoder = new HpackDecoder();

        var (error, fields) = Decode(decoder, Hex("040c 2f73 616d 706c 652f 7061 7468"));

        Assert.Equal(HpackError.None, error);
        Assert.Equal([(":path", "/sample/path", false)], fields);
        Assert.Equal(0, decoder.Table.Count);
        Assert.Equal(0, decoder.Table.Size);
    }

    [Fact]
    public void C2_3_LiteralNeverIndexed_IsReportedAsSuch()
    {
        var decoder = new HpackDecoder();

        var (error, fields) = Decode(decoder, Hex("1008 7061 7373 776f 7264 0673 6563 7265 74"));

        Assert.Equal(HpackError.None, error);
        Assert.Equal([("password", "secret", true)], fields);
        Assert.Equal(0, decoder.Table.Count);
    }

    [Fact]
    public void C2_4_Indexed()
    {
        var decoder = new HpackDecoder();

        var (error, fields) = Decode(decoder, Hex("82"));

        Assert.Equal(HpackError.None, error);
        Assert.Equal([(":method", "GET", false)], fields);
        Assert.Equal(0, decoder.Table.Count);
    }

    public static TheoryData<bool> HuffmanOrNot => new() { false, true };

    [Theory]
    [MemberData(nameof(HuffmanOrNot))]
    public void C3_C4_Requests_ShareTheDynamicTable(bool huffman)
    {
        var decoder = new HpackDecoder();
        string[] blocks = huffman ? RfcBlocks.C4 : RfcBlocks.C3;

        var (error, fields) = Decode(decoder, Hex(blocks[0]));
        Assert.Equal(HpackError.None, error);
        Assert.Equal(RfcBlocks.Request1, fields.Select(f => (f.Name, f.Value)));
        Assert.Equal([(":authority", "www.example.com")], Entries(decoder.Table));
        Assert.Equal(57, decoder.Table.Size);

        (error, fields) = Decode(decoder, Hex(blocks[1]));
        Assert.Equal(HpackError.None, error);
        Assert.Equal(RfcBlocks.Request2, fields.Select(f => (f.Name, f.Value)));
        Assert.Equal([("cache-control", "no-cache"), (":authority", "www.example.com")], Entries(decoder.Table));
        Assert.Equal(110, decoder.Table.Size);

        (error, fields) = Decode(decoder, Hex(blocks[2]));
        Assert.Equal(HpackError.None, error);
        Assert.Equal(RfcBlocks.Request3, fields.Select(f => (f.Name, f.Value)));
        Assert.Equal(
            [("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")],
            Entries(decoder.Table));
        Assert.Equal(164, decoder.Table.Size);
    }

    [Theory]
    [MemberData(nameof(HuffmanOrNot))]
    public void C5_C6_Responses_EvictFromA256ByteTable(bool huffman)
    {
        var decoder = new HpackDecoder(maxTableSize: 256);
        string[] blocks = huffman ? RfcBlocks.C6 : RfcBlocks.C5;

        var (error, fields) = Decode(decoder, Hex(blocks[0]));
        Assert.Equal(HpackError.None, error);
        Assert.Equal(RfcBlocks.Response1, fields.Select(f => (f.Name, f.Value)));
        Assert.Equal(
            [("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private"), (":status", "302")],
            Entries(decoder.Table));
        Assert.Equal(222, decoder.Table.Size);

        (error, fields) = Decode(decoder, Hex(blocks[1]));
        Assert.Equal(HpackError.None, error);
        Assert.Equal(RfcBlocks.Response2, fields.Select(f => (f.Name, f.Value)));
        Assert.Equal(
            [(":status", "307"), ("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private")],
            Entries(decoder.Table));
        Assert.Equal(222, decoder.Table.Size);

        (error, fields) = Decode(decoder, Hex(blocks[2]));
        Assert.Equal(HpackError.None, error);
        Assert.Equal(RfcBlocks.Response3, fields.Select(f => (f.Name, f.Value)));
        Assert.Equal(
            [("set-cookie", RfcBlocks.Cookie), ("content-encoding", "gzip"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT")],
            Entries(decoder.Table));
        Assert.Equal(215, decoder.Table.Size);
        Assert.Equal(98, decoder.Table.EntrySize(0));
    }
}
