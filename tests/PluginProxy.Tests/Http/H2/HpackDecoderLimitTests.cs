using System.Text;
using PluginProxy.Http.Codec.H2;
using static PluginProxy.Tests.Http.H2.H2TestSupport;

namespace PluginProxy.Tests.Http.H2;

/// <summary>The decoder's refusals (COMPRESSION_ERROR cases) and its bounds against oversized or expanding blocks.</summary>
public class HpackDecoderLimitTests
{
    /// <summary>A literal with incremental indexing and a new name, not Huffman-coded.</summary>
    private static byte[] LiteralIndexed(string name, string value)
    {
        var block = new List<byte> { 0x40 };
        AddString(block, name);
        AddString(block, value);
        return [.. block];
    }

    private static void AddString(List<byte> block, string text)
    {
        var prefix = new byte[HpackInteger.MaxLength];
        HpackInteger.TryEncode(prefix, text.Length, 7, 0, out int written);
        block.AddRange(prefix.AsSpan(0, written).ToArray());
        block.AddRange(Ascii(text));
    }

    [Fact]
    public void HeaderListOverTheLimit_IsReportedDistinctly_AndTheTableStaysInStep()
    {
        var decoder = new HpackDecoder(maxHeaderListSize: 100);
        byte[] block = [.. LiteralIndexed("a", new string('1', 40)), .. LiteralIndexed("b", new string('2', 40)), .. LiteralIndexed("c", "3")];

        var (error, fields) = Decode(decoder, block);

        Assert.Equal(HpackError.HeaderListTooLarge, error);
        Assert.False(HpackErrors.IsFatal(error));
        Assert.Equal([("a", new string('1', 40), false)], fields);
        Assert.Equal([("c", "3"), ("b", new string('2', 40)), ("a", new string('1', 40))], Entries(decoder.Table));

        // The next blocks can use the entries added after the limit was reached.
        Assert.Equal([("c", "3", false)], Decode(decoder, Hex("be")).Fields);
        Assert.Equal([("b", new string('2', 40), false)], Decode(decoder, Hex("bf")).Fields);
    }

    [Fact]
    public void FieldsUpToTheLimitExactly_Pass()
    {
        // 1 + 35 + 32 = 68 bytes per field, twice.
        var decoder = new HpackDecoder(maxHeaderListSize: 136);
        byte[] block = [.. LiteralIndexed("a", new string('x', 35)), .. LiteralIndexed("b", new string('y', 35))];

        Assert.Equal(HpackError.None, Decode(decoder, block).Error);
    }

    [Fact]
    public void ManyReferencesToALargeEntry_StopAtTheLimit()
    {
        var decoder = new HpackDecoder(maxHeaderListSize: 16384);
        Assert.Equal(HpackError.None, Decode(decoder, LiteralIndexed("big", new string('x', 4000))).Error);
        byte[] bomb = Enumerable.Repeat((byte)0xbe, 10_000).ToArray();

        var sink = new CountingSink();
        HpackError error = decoder.Decode(bomb, ref sink);

        Assert.Equal(HpackError.HeaderListTooLarge, error);
        Assert.Equal(4, sink.Count);
        Assert.True(sink.Bytes <= 16384);
    }

    [Fact]
    public void AHugeHuffmanString_IsCheckedButNeverStored_AndEmptiesTheTableWhenIndexed()
    {
        var decoder = new HpackDecoder(maxHeaderListSize: 1000);
        Assert.Equal(HpackError.None, Decode(decoder, LiteralIndexed("keep", "me")).Error);

        // 5000 '0' symbols of 5 bits: 3125 Huffman bytes expanding to 5000, over both the list limit and the table.
        byte[] zeros = Ascii(new string('0', 5000));
        var coded = new byte[HpackHuffman.EncodedLength(zeros)];
        HpackHuffman.Encode(zeros, coded);
        var block = new List<byte> { 0x40, 0x01, (byte)'z' };
        var prefix = new byte[HpackInteger.MaxLength];
        HpackInteger.TryEncode(prefix, coded.Length, 7, 0x80, out int written);
        block.AddRange(prefix.AsSpan(0, written).ToArray());
        block.AddRange(coded);
        block.Add(0x82);

        var (error, fields) = Decode(decoder, [.. block]);

        Assert.Equal(HpackError.HeaderListTooLarge, error);
        Assert.Empty(fields);
        Assert.Equal(0, decoder.Table.Count);
    }

    [Fact]
    public void AHugeHuffmanString_WithBadPadding_IsStillRefused()
    {
        var decoder = new HpackDecoder(maxHeaderListSize: 100);
        var block = new List<byte> { 0x00, 0x01, (byte)'z' };
        byte[] coded = [.. Enumerable.Repeat((byte)0x00, 200), 0x00]; // '0' symbols ending in three zero bits
        var prefix = new byte[HpackInteger.MaxLength];
        HpackInteger.TryEncode(prefix, coded.Length, 7, 0x80, out int written);
        block.AddRange(prefix.AsSpan(0, written).ToArray());
        block.AddRange(coded);

        Assert.Equal(HpackError.HuffmanPaddingNotOnes, Decode(decoder, [.. block]).Error);
    }

    [Fact]
    public void TableSizeUpdate_AboveTheAdvertisedSize_IsRefused()
    {
        var decoder = new HpackDecoder(maxTableSize: 4096);

        Assert.Equal(HpackError.None, Decode(new HpackDecoder(maxTableSize: 4096), Hex("3fe11f 82")).Error);
        Assert.Equal(HpackError.TableSizeUpdateTooLarge, Decode(decoder, Hex("3fe21f 82")).Error);
        Assert.True(HpackErrors.IsFatal(HpackError.TableSizeUpdateTooLarge));
        Assert.Equal(Http2ErrorCode.CompressionError, HpackErrors.ToHttp2Error(HpackError.TableSizeUpdateTooLarge).Code);
        Assert.Equal(Http2ErrorScope.Connection, HpackErrors.ToHttp2Error(HpackError.TableSizeUpdateTooLarge).Scope);
    }

    [Fact]
    public void TableSizeUpdate_AfterAField_IsRefused()
    {
        Assert.Equal(HpackError.TableSizeUpdateNotAtStart, Decode(new HpackDecoder(), Hex("82 20")).Error);
    }

    [Fact]
    public void TableSizeUpdates_AtTheStart_AreApplied_AndEvict()
    {
        var decoder = new HpackDecoder();
        Assert.Equal(HpackError.None, Decode(decoder, LiteralIndexed("a", "b")).Error);

        var (error, fields) = Decode(decoder, Hex("20 3f11 82"));

        Assert.Equal(HpackError.None, error);
        Assert.Equal([(":method", "GET", false)], fields);
        Assert.Equal(0, decoder.Table.Count);
        Assert.Equal(48, decoder.Table.MaxSize);
    }

    [Fact]
    public void AfterWeLowerTheSetting_TheNextBlockMustStartWithASizeUpdate()
    {
        var decoder = new HpackDecoder();
        decoder.SetMaxTableSize(1024);

        Assert.Equal(HpackError.TableSizeUpdateMissing, Decode(decoder, Hex("82")).Error);
        Assert.Equal(HpackError.TableSizeUpdateTooLarge, Decode(decoder, Hex("3fe21f 82")).Error);
        Assert.Equal(HpackError.None, Decode(decoder, Hex("3fe107 82")).Error);
        Assert.Equal(1024, decoder.Table.MaxSize);
        Assert.Equal(HpackError.None, Decode(decoder, Hex("82")).Error);
    }

    [Theory]
    [InlineData("80", nameof(HpackError.IndexZero))]
    [InlineData("be", nameof(HpackError.IndexOutOfRange))]
    [InlineData("7f00 0161", nameof(HpackError.IndexOutOfRange))] // literal whose name index is 63, table empty
    [InlineData("ff ffff ffff 0f", nameof(HpackError.IntegerOverflow))]
    [InlineData("ff 8080 8080 8000", nameof(HpackError.IntegerOverflow))] // too many continuation bytes
    [InlineData("ff", nameof(HpackError.Truncated))]
    [InlineData("400a 6375", nameof(HpackError.Truncated))]
    [InlineData("0a", nameof(HpackError.Truncated))] // value missing
    [InlineData("0a81 ff", nameof(HpackError.HuffmanPaddingTooLong))]
    [InlineData("0a81 00", nameof(HpackError.HuffmanPaddingNotOnes))]
    [InlineData("0a84 ffff ffff", nameof(HpackError.HuffmanEos))]
    public void MalformedBlocks_AreCompressionErrors(string hex, string expected)
    {
        HpackError error = Decode(new HpackDecoder(), Hex(hex)).Error;

        Assert.Equal(Enum.Parse<HpackError>(expected), error);
        Assert.True(HpackErrors.IsFatal(error));
    }

    [Fact]
    public void AnIndexedNameThatTheNewEntryEvicts_IsCopiedFirst()
    {
        var decoder = new HpackDecoder(maxTableSize: 100);
        Assert.Equal(HpackError.None, Decode(decoder, LiteralIndexed("custom-key", new string('a', 40))).Error);

        // Literal with incremental indexing, name = index 62 (the entry above), value of 40 bytes: the old entry is evicted.
        var block = new List<byte> { 0x7e };
        AddString(block, new string('b', 40));
        var (error, fields) = Decode(decoder, [.. block]);

        Assert.Equal(HpackError.None, error);
        Assert.Equal([("custom-key", new string('b', 40), false)], fields);
        Assert.Equal([("custom-key", new string('b', 40))], Entries(decoder.Table));
    }

    [Fact]
    public void AHuffmanNameFollowedByALargeHuffmanValue_KeepsTheName()
    {
        var encoder = new HpackEncoder(maxTableSize: 0);
        var buffer = new byte[20_000];
        encoder.TryBeginBlock(buffer, out int length);
        string value = string.Concat(Enumerable.Range(0, 1000).Select(i => $"v{i}"));
        Assert.True(encoder.TryEncodeField(buffer.AsSpan(length), Ascii("x-some-custom-name"), Ascii(value), false, out int written));

        var (error, fields) = Decode(new HpackDecoder(), buffer[..(length + written)]);

        Assert.Equal(HpackError.None, error);
        Assert.Equal([("x-some-custom-name", value, false)], fields);
    }

    [Fact]
    public void Decoding_AllocatesNothing_OnceWarm()
    {
        var decoder = new HpackDecoder(maxTableSize: 256);

        // Each round empties the table first (size updates to 0 then back to 256), so it can be repeated.
        byte[][] blocks = [Hex("20 3fe101" + RfcBlocks.C6[0]), Hex(RfcBlocks.C6[1]), Hex(RfcBlocks.C6[2])];
        var sink = new CountingSink();
        int failures = Rounds(decoder, blocks, 3, ref sink);

        sink = new CountingSink();
        long before = GC.GetAllocatedBytesForCurrentThread();
        failures += Rounds(decoder, blocks, 10, ref sink);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, failures);
        Assert.Equal(10 * (RfcBlocks.Response1.Length + RfcBlocks.Response2.Length + RfcBlocks.Response3.Length), sink.Count);
        Assert.Equal(0, allocated);
    }

    private static int Rounds(HpackDecoder decoder, byte[][] blocks, int rounds, ref CountingSink sink)
    {
        int failures = 0;
        for (int round = 0; round < rounds; round++)
        {
            foreach (byte[] block in blocks)
            {
                if (decoder.Decode(block, ref sink) != HpackError.None)
                {
                    failures++;
                }
            }
        }

        return failures;
    }

    [Fact]
    public void NamesAreGivenAsOnTheWire()
    {
        var (error, fields) = Decode(new HpackDecoder(), LiteralIndexed("X-Upper", "v"));

        Assert.Equal(HpackError.None, error);
        Assert.Equal("X-Upper", fields[0].Name);
        Assert.Equal(Encoding.ASCII.GetBytes("X-Upper"), Ascii(fields[0].Name));
    }
}
