using PluginProxy.Http.Codec.H2;
using static PluginProxy.Tests.Http.H2.H2TestSupport;

namespace PluginProxy.Tests.Http.H2;

public class HpackHuffmanTests
{
    [Theory]
    [InlineData("www.example.com", "f1e3c2e5f23a6ba0ab90f4ff")]
    [InlineData("no-cache", "a8eb10649cbf")]
    [InlineData("custom-key", "25a849e95ba97d7f")]
    [InlineData("custom-value", "25a849e95bb8e8b4bf")]
    [InlineData("302", "6402")]
    [InlineData("307", "640eff")]
    [InlineData("private", "aec3771a4b")]
    [InlineData("Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff")]
    [InlineData("https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3")]
    [InlineData("gzip", "9bd9ab")]
    [InlineData(RfcBlocks.Cookie, "94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007")]
    public void RfcStrings_EncodeAndDecodeExactly(string text, string hex)
    {
        byte[] plain = Ascii(text);
        var encoded = new byte[HpackHuffman.EncodedLength(plain)];

        Assert.Equal(hex.Length / 2, HpackHuffman.Encode(plain, encoded));
        Assert.Equal(hex, ToHex(encoded));

        var decoded = new byte[HpackHuffman.MaxDecodedLength(encoded.Length)];
        Assert.Equal(HpackError.None, HpackHuffman.Decode(encoded, decoded, out int written));
        Assert.Equal(text, System.Text.Encoding.Latin1.GetString(decoded, 0, written));
        Assert.Equal(HpackError.None, HpackHuffman.GetDecodedLength(encoded, out int length));
        Assert.Equal(plain.Length, length);
    }

    [Fact]
    public void AllByteValues_RoundTrip_TogetherAndOneByOne()
    {
        byte[] all = [.. Enumerable.Range(0, 256).Select(i => (byte)i)];
        AssertRoundTrip(all);
        AssertRoundTrip([.. all.Reverse()]);
        for (int i = 0; i < 256; i++)
        {
            AssertRoundTrip([(byte)i]);
            AssertRoundTrip([(byte)i, (byte)i, (byte)(255 - i)]);
        }
    }

    private static void AssertRoundTrip(byte[] plain)
    {
        var encoded = new byte[HpackHuffman.EncodedLength(plain)];
        HpackHuffman.Encode(plain, encoded);
        var decoded = new byte[HpackHuffman.MaxDecodedLength(encoded.Length)];

        Assert.Equal(HpackError.None, HpackHuffman.Decode(encoded, decoded, out int written));
        Assert.Equal(plain, decoded[..written]);
    }

    [Fact]
    public void TheTable_IsTheCanonicalCodeOfAppendixB()
    {
        // Kraft equality: the code is complete (every bit pattern starts with a code).
        double sum = Enumerable.Range(0, 257).Sum(s => Math.Pow(2, -HpackHuffmanTable.Length(s)));
        Assert.Equal(1.0, sum, 12);

        // A few rows of Appendix B, from both ends of the table.
        Assert.Equal((0x1ff8u, 13), (HpackHuffmanTable.Code(0), HpackHuffmanTable.Length(0)));
        Assert.Equal((0x14u, 6), (HpackHuffmanTable.Code(' '), HpackHuffmanTable.Length(' ')));
        Assert.Equal((0x0u, 5), (HpackHuffmanTable.Code('0'), HpackHuffmanTable.Length('0')));
        Assert.Equal((0x7bu, 7), (HpackHuffmanTable.Code('z'), HpackHuffmanTable.Length('z')));
        Assert.Equal((0x7fff0u, 19), (HpackHuffmanTable.Code('\\'), HpackHuffmanTable.Length('\\')));
        Assert.Equal((0x3ffffeeu, 26), (HpackHuffmanTable.Code(255), HpackHuffmanTable.Length(255)));
        Assert.Equal((0x3fffffffu, 30), (HpackHuffmanTable.Code(256), HpackHuffmanTable.Length(256)));
    }

    [Theory]
    [InlineData("ff", nameof(HpackError.HuffmanPaddingTooLong))] // eight bits of padding
    [InlineData("f1e3c2e5f23a6ba0ab90f4ffff", nameof(HpackError.HuffmanPaddingTooLong))] // www.example.com + a byte of ones
    [InlineData("1fffffff", nameof(HpackError.HuffmanPaddingTooLong))] // 'a' (00011) then 27 ones: no code, not EOS
    [InlineData("00", nameof(HpackError.HuffmanPaddingNotOnes))] // '0' then 000
    [InlineData("f1e3c2e5f23a6ba0ab90f4fe", nameof(HpackError.HuffmanPaddingNotOnes))]
    [InlineData("ffffffff", nameof(HpackError.HuffmanEos))]
    [InlineData("07ffffffff", nameof(HpackError.HuffmanEos))] // '0' (00000) then EOS
    public void InvalidStrings_AreRefused(string hex, string expected)
    {
        var decoded = new byte[64];

        Assert.Equal(Enum.Parse<HpackError>(expected), HpackHuffman.Decode(Hex(hex), decoded, out _));
        Assert.Equal(Enum.Parse<HpackError>(expected), HpackHuffman.GetDecodedLength(Hex(hex), out _));
    }

    [Fact]
    public void EmptyInput_IsTheEmptyString()
    {
        Assert.Equal(HpackError.None, HpackHuffman.Decode([], [], out int written));
        Assert.Equal(0, written);
        Assert.Equal(0, HpackHuffman.EncodedLength([]));
    }

    [Fact]
    public void ADestinationTooShort_IsReported()
    {
        Assert.Equal(HpackError.StringTooLong, HpackHuffman.Decode(Hex("f1e3c2e5f23a6ba0ab90f4ff"), new byte[5], out int written));
        Assert.Equal(5, written);
    }
}
