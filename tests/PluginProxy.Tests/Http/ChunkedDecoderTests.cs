using System.Text;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Tests.Http;

public class ChunkedDecoderTests
{
    /// <summary>Feeds the body in pieces of <paramref name="step"/> bytes; returns the error, the bytes consumed and the data.</summary>
    private static (HttpParseError Error, int Consumed, string Data, bool Done) Decode(string body, int step = int.MaxValue)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(body);
        var decoder = new ChunkedDecoder();
        var data = new StringBuilder();
        int offset = 0;
        while (offset < bytes.Length && !decoder.IsDone)
        {
            int end = (int)Math.Min(bytes.Length, (long)offset + step);
            ReadOnlySpan<byte> piece = bytes.AsSpan(offset, end - offset);
            int used = 0;
            while (used < piece.Length && !decoder.IsDone)
            {
                HttpParseError error = decoder.Advance(piece[used..], out int consumed, out Range range);
                if (error != HttpParseError.None)
                {
                    return (error, offset + used + consumed, data.ToString(), false);
                }

                data.Append(Encoding.Latin1.GetString(piece[used..][range]));
                used += consumed;
            }

            offset += used;
        }

        return (HttpParseError.None, offset, data.ToString(), decoder.IsDone);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(3)]
    public void ValidBody_IsFollowedToItsEnd_InAnyPieces(int step)
    {
        string body = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n";

        var (error, consumed, data, done) = Decode(body + "GET /next", step);

        Assert.Equal(HttpParseError.None, error);
        Assert.True(done);
        Assert.Equal(body.Length, consumed);
        Assert.Equal("hello, world", data);
    }

    [Theory]
    [InlineData("A\r\n0123456789\r\n0\r\n\r\n")]
    [InlineData("a\r\n0123456789\r\n0\r\n\r\n")]
    [InlineData("000a\r\n0123456789\r\n0000\r\n\r\n")]
    [InlineData("a ;ext\r\n0123456789\r\n0\r\n\r\n")]
    [InlineData("a;name=\"quoted value\"\r\n0123456789\r\n0\r\n\r\n")]
    public void LegalSizesAndExtensions_Pass(string body)
    {
        var (error, _, data, done) = Decode(body);

        Assert.Equal(HttpParseError.None, error);
        Assert.True(done);
        Assert.Equal("0123456789", data);
    }

    [Theory]
    [InlineData("\r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkSizeInvalid))]
    [InlineData("+5\r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkSizeInvalid))]
    [InlineData("-5\r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkSizeInvalid))]
    [InlineData("0x5\r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkSizeInvalid))]
    [InlineData(" 5\r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkSizeInvalid))]
    [InlineData("5 \r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkSizeInvalid))]
    [InlineData("5g\r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkSizeInvalid))]
    [InlineData(";ext\r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkSizeInvalid))]
    [InlineData("fffffffffffffffff\r\n", nameof(HttpParseError.ChunkSizeOverflow))]
    [InlineData("8000000000000000\r\n", nameof(HttpParseError.ChunkSizeOverflow))]
    [InlineData("5\r\nhelloX\r\n0\r\n\r\n", nameof(HttpParseError.ChunkDataNotTerminated))]
    [InlineData("5\r\nhello\n0\r\n\r\n", nameof(HttpParseError.ChunkDataNotTerminated))]
    [InlineData("5\r\nhello\rX0\r\n\r\n", nameof(HttpParseError.ChunkDataNotTerminated))]
    [InlineData("5\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkSizeInvalid))]
    [InlineData("5\rhello\r\n0\r\n\r\n", nameof(HttpParseError.BareCr))]
    [InlineData("5;a\u0000b\r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkExtensionInvalid))]
    [InlineData("5;a\nb\r\nhello\r\n0\r\n\r\n", nameof(HttpParseError.ChunkExtensionInvalid))]
    [InlineData("0\r\nBad Trailer: x\r\n\r\n", nameof(HttpParseError.TrailerInvalid))]
    [InlineData("0\r\nNoColon\r\n\r\n", nameof(HttpParseError.TrailerInvalid))]
    [InlineData("0\r\nX: a\nY: b\r\n\r\n", nameof(HttpParseError.BareLf))]
    [InlineData("0\r\n\rX", nameof(HttpParseError.BareCr))]
    public void AmbiguousChunking_IsRefused(string body, string expected) =>
        Assert.Equal(expected, Decode(body).Error.ToString());

    [Fact]
    public void TruncatedBody_IsNotDone()
    {
        var (error, _, data, done) = Decode("5\r\nhel");

        Assert.Equal(HttpParseError.None, error);
        Assert.False(done);
        Assert.Equal("hel", data);
    }

    /// <summary>Decodes a whole chunked body in pieces of <paramref name="step"/> bytes, with a trailer sink; returns the sink.</summary>
    private static PluginProxy.Abstractions.Http.HttpHeaders DecodeTrailers(string body, int step)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(body);
        var trailers = new PluginProxy.Abstractions.Http.HttpHeaders();
        var decoder = new ChunkedDecoder();
        decoder.Reset(trailers);
        int offset = 0;
        while (!decoder.IsDone)
        {
            ReadOnlySpan<byte> piece = bytes.AsSpan(offset, Math.Min(step, bytes.Length - offset));
            Assert.Equal(HttpParseError.None, decoder.Advance(piece, out int consumed, out _));
            offset += consumed;
        }

        Assert.Equal(bytes.Length, offset);
        return trailers;
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    public void TrailerFields_GoToTheMessage_InOrder(int step)
    {
        PluginProxy.Abstractions.Http.HttpHeaders trailers = DecodeTrailers("3\r\nabc\r\n0\r\nGrpc-Status: 0\r\nX-Checksum:  a1b2 \r\n\r\n", step);

        Assert.Equal([new("Grpc-Status", "0"), new("X-Checksum", "a1b2")], trailers.ToList());
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    public void BodyWithoutTrailers_LeavesTheMessageTrailersEmpty(int step) =>
        Assert.Equal(0, DecodeTrailers("1\r\nx\r\n0\r\n\r\n", step).Count);
}
