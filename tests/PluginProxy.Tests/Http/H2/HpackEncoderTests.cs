using System.Buffers;
using PluginProxy.Http.Codec.H2;
using static PluginProxy.Tests.Http.H2.H2TestSupport;

namespace PluginProxy.Tests.Http.H2;

public class HpackEncoderTests
{
    private static byte[] EncodeBlock(HpackEncoder encoder, IEnumerable<(string Name, string Value)> fields, bool neverIndex = false)
    {
        var writer = new ArrayBufferWriter<byte>();
        encoder.BeginBlock(writer);
        foreach (var (name, value) in fields)
        {
            encoder.EncodeField(writer, Ascii(name), Ascii(value), neverIndex);
        }

        return writer.WrittenSpan.ToArray();
    }

    public static TheoryData<bool> HuffmanOrNot => new() { false, true };

    [Theory]
    [MemberData(nameof(HuffmanOrNot))]
    public void C3_C4_Requests_AreEncodedAsInTheRfc(bool huffman)
    {
        var encoder = new HpackEncoder(useHuffman: huffman);
        string[] expected = huffman ? RfcBlocks.C4 : RfcBlocks.C3;

        Assert.Equal(ToHex(Hex(expected[0])), ToHex(EncodeBlock(encoder, RfcBlocks.Request1)));
        Assert.Equal(ToHex(Hex(expected[1])), ToHex(EncodeBlock(encoder, RfcBlocks.Request2)));
        Assert.Equal(ToHex(Hex(expected[2])), ToHex(EncodeBlock(encoder, RfcBlocks.Request3)));
        Assert.Equal(164, encoder.Table.Size);
    }

    [Theory]
    [MemberData(nameof(HuffmanOrNot))]
    public void C5_C6_Responses_AreEncodedAsInTheRfc_AfterTheSizeUpdate(bool huffman)
    {
        var encoder = new HpackEncoder(useHuffman: huffman);
        encoder.SetPeerMaxTableSize(256);
        string[] expected = huffman ? RfcBlocks.C6 : RfcBlocks.C5;

        // The first block announces the new size (256 on a 5-bit prefix: 3f e1 01), then is the RFC's.
        Assert.Equal("3fe101" + ToHex(Hex(expected[0])), ToHex(EncodeBlock(encoder, RfcBlocks.Response1)));
        Assert.Equal(ToHex(Hex(expected[1])), ToHex(EncodeBlock(encoder, RfcBlocks.Response2)));
        Assert.Equal(222, encoder.Table.Size);

        // The third response differs from the RFC on purpose: set-cookie is sent never indexed.
        var decoder = new HpackDecoder(maxTableSize: 256);
        var replay = new HpackEncoder(useHuffman: huffman);
        replay.SetPeerMaxTableSize(256);
        Decode(decoder, EncodeBlock(replay, RfcBlocks.Response1));
        Decode(decoder, EncodeBlock(replay, RfcBlocks.Response2));
        var (error, fields) = Decode(decoder, EncodeBlock(replay, RfcBlocks.Response3));
        Assert.Equal(HpackError.None, error);
        Assert.Equal(RfcBlocks.Response3.Select(f => (f.Item1, f.Item2, f.Item1 == "set-cookie")), fields);
        Assert.Equal(Entries(replay.Table), Entries(decoder.Table));
        Assert.DoesNotContain(Entries(decoder.Table), e => e.Name == "set-cookie");
    }

    [Theory]
    [InlineData("authorization", "Bearer abc", "1f08")]
    [InlineData("proxy-authorization", "Basic xyz", "1f22")]
    [InlineData("set-cookie", "a=b", "1f28")]
    [InlineData("cookie", "short=1", "1f11")]
    public void SensitiveFields_AreNeverIndexed(string name, string value, string start)
    {
        var encoder = new HpackEncoder(useHuffman: false);
        var decoder = new HpackDecoder();

        byte[] block = EncodeBlock(encoder, [(name, value)]);
        var (error, fields) = Decode(decoder, block);

        Assert.StartsWith(start, ToHex(block));
        Assert.Equal(HpackError.None, error);
        Assert.Equal([(name, value, true)], fields);
        Assert.Equal(0, encoder.Table.Count);
        Assert.Equal(0, decoder.Table.Count);
    }

    [Fact]
    public void ALongCookie_IsIndexed()
    {
        var encoder = new HpackEncoder(useHuffman: false);

        byte[] block = EncodeBlock(encoder, [("cookie", "session=0123456789abcdef")]);

        Assert.Equal(0x60, block[0]); // literal with incremental indexing, name index 32
        Assert.Equal(1, encoder.Table.Count);
        Assert.Equal("be", ToHex(EncodeBlock(encoder, [("cookie", "session=0123456789abcdef")]))); // indexed, 62
    }

    [Fact]
    public void AFieldMarkedNeverIndex_KeepsThatRepresentation()
    {
        var encoder = new HpackEncoder();
        var decoder = new HpackDecoder();

        var (error, fields) = Decode(decoder, EncodeBlock(encoder, [("x-secret", "v"), (":method", "GET")], neverIndex: true));

        Assert.Equal(HpackError.None, error);
        Assert.Equal([("x-secret", "v", true), (":method", "GET", true)], fields);
        Assert.Equal(0, encoder.Table.Count);
    }

    [Fact]
    public void VolatileFields_AreNotIndexed_OtherLiteralsAre()
    {
        var encoder = new HpackEncoder(useHuffman: false);

        EncodeBlock(encoder, [(":path", "/a/b"), ("content-length", "12"), ("etag", "\"x\""), ("x-custom", "1"), (":authority", "h")]);

        Assert.Equal([(":authority", "h"), ("x-custom", "1")], Entries(encoder.Table));
    }

    [Fact]
    public void ManyBlocks_RoundTrip_WithTheTablesInStep()
    {
        var random = new Random(7541);
        var encoder = new HpackEncoder(maxTableSize: 512);
        var decoder = new HpackDecoder(maxHeaderListSize: 1 << 20);
        string[] names = ["x-a", "x-b", "user-agent", "accept", ":authority", "cookie", "x-long-header-name", "content-type"];
        for (int block = 0; block < 300; block++)
        {
            if (block % 50 == 25)
            {
                encoder.SetPeerMaxTableSize((uint)random.Next(0, 1024));
            }

            var fields = new List<(string, string)>();
            int count = random.Next(1, 12);
            for (int i = 0; i < count; i++)
            {
                string value = new string((char)random.Next('a', 'f'), random.Next(0, 3)) + random.Next(0, 20);
                if (random.Next(10) == 0)
                {
                    value = new string('v', random.Next(100, 400));
                }

                fields.Add((names[random.Next(names.Length)], value));
            }

            var (error, decoded) = Decode(decoder, EncodeBlock(encoder, fields));

            Assert.Equal(HpackError.None, error);
            Assert.Equal(fields, decoded.Select(f => (f.Name, f.Value)));
            Assert.Equal(Entries(encoder.Table), Entries(decoder.Table));
            Assert.Equal(encoder.Table.Size, decoder.Table.Size);
            Assert.Equal(encoder.Table.MaxSize, decoder.Table.MaxSize);
        }
    }

    [Fact]
    public void AllByteValues_RoundTripInAValue()
    {
        string value = new([.. Enumerable.Range(0, 256).Select(i => (char)i)]);
        var encoder = new HpackEncoder();

        var (error, fields) = Decode(new HpackDecoder(), EncodeBlock(encoder, [("x-bytes", value)]));

        Assert.Equal(HpackError.None, error);
        Assert.Equal(value, fields[0].Value);
    }

    [Fact]
    public void PeerTableSizeChanges_AreAnnouncedAtTheNextBlock()
    {
        var encoder = new HpackEncoder(useHuffman: false);
        EncodeBlock(encoder, [("x-a", "1")]);

        encoder.SetPeerMaxTableSize(0);
        Assert.Equal(0, encoder.Table.Count);
        Assert.Equal("2082", ToHex(EncodeBlock(encoder, [(":method", "GET")])));
        Assert.Equal("82", ToHex(EncodeBlock(encoder, [(":method", "GET")])));

        // Raised from 0 (through 100): only the final size.
        encoder.SetPeerMaxTableSize(100);
        encoder.SetPeerMaxTableSize(4096);
        Assert.Equal("3fe11f82", ToHex(EncodeBlock(encoder, [(":method", "GET")])));

        // Lowered then raised between two blocks: the smallest size (100), then the final one.
        encoder.SetPeerMaxTableSize(100);
        encoder.SetPeerMaxTableSize(4096);
        Assert.Equal("3f453fe11f82", ToHex(EncodeBlock(encoder, [(":method", "GET")])));

        // The peer allowing more than the encoder's capacity changes nothing.
        encoder.SetPeerMaxTableSize(1 << 20);
        Assert.Equal("82", ToHex(EncodeBlock(encoder, [(":method", "GET")])));
    }

    [Fact]
    public void AnEncoderWithoutTable_AnnouncesZeroOnce_AndNeverIndexes()
    {
        var encoder = new HpackEncoder(maxTableSize: 0, useHuffman: false);
        var decoder = new HpackDecoder();

        byte[] first = EncodeBlock(encoder, [("x-a", "1")]);
        Assert.StartsWith("20", ToHex(first));
        Assert.Equal(HpackError.None, Decode(decoder, first).Error);
        Assert.Equal("0003782d610131", ToHex(EncodeBlock(encoder, [("x-a", "1")])));
        Assert.Equal(0, decoder.Table.Count);
    }

    [Fact]
    public void ADestinationTooShort_ChangesNothing()
    {
        var encoder = new HpackEncoder(useHuffman: false);

        Assert.False(encoder.TryEncodeField(new byte[5], Ascii("x-custom"), Ascii("value"), false, out int written));
        Assert.Equal(0, written);
        Assert.Equal(0, encoder.Table.Count);

        var buffer = new byte[HpackEncoder.MaxFieldLength(8, 5)];
        Assert.True(encoder.TryEncodeField(buffer, Ascii("x-custom"), Ascii("value"), false, out written));
        Assert.Equal(1 + 1 + 8 + 1 + 5, written);
        Assert.Equal(1, encoder.Table.Count);
    }
}
