using System.Buffers;
using PluginProxy.Http.Codec.H2;
using static PluginProxy.Tests.Http.H2.H2TestSupport;

namespace PluginProxy.Tests.Http.H2;

public class FrameWriterTests
{
    [Fact]
    public void ControlFrames_HaveTheirExactBytes()
    {
        var buffer = new byte[64];

        int n = FrameWriter.WriteSettings(buffer, [new(Http2SettingId.MaxConcurrentStreams, 100), new(Http2SettingId.InitialWindowSize, 65535)]);
        Assert.Equal("00000c040000000000" + "000300000064" + "00040000ffff", ToHex(buffer.AsSpan(0, n)));

        n = FrameWriter.WriteSettingsAck(buffer);
        Assert.Equal("000000040100000000", ToHex(buffer.AsSpan(0, n)));

        n = FrameWriter.WritePing(buffer, 0x0102030405060708, ack: true);
        Assert.Equal("000008060100000000" + "0102030405060708", ToHex(buffer.AsSpan(0, n)));

        n = FrameWriter.WriteGoAway(buffer, 7, Http2ErrorCode.ProtocolError, Ascii("bye"));
        Assert.Equal("00000b070000000000" + "00000007" + "00000001" + "627965", ToHex(buffer.AsSpan(0, n)));

        n = FrameWriter.WriteRstStream(buffer, 3, Http2ErrorCode.RefusedStream);
        Assert.Equal("000004030000000003" + "00000007", ToHex(buffer.AsSpan(0, n)));

        n = FrameWriter.WriteWindowUpdate(buffer, 0, 0x7FFFFFFF);
        Assert.Equal("000004080000000000" + "7fffffff", ToHex(buffer.AsSpan(0, n)));

        n = FrameWriter.WriteData(buffer, 5, Ascii("ok"), endStream: true);
        Assert.Equal("000002000100000005" + "6f6b", ToHex(buffer.AsSpan(0, n)));
    }

    [Fact]
    public void WrittenFrames_PassTheirOwnChecks()
    {
        var buffer = new byte[64];
        int n = FrameWriter.WriteGoAway(buffer, 9, Http2ErrorCode.NoError);
        Assert.True(FrameHeader.TryRead(buffer, out FrameHeader header));
        Assert.Equal(n - FrameHeader.Size, header.Length);

        Assert.False(FramePayloads.ReadGoAway(header, buffer.AsSpan(FrameHeader.Size, header.Length), out GoAwayPayload goAway).IsError);
        Assert.Equal(9, goAway.LastStreamId);
        Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
    }

    [Fact]
    public void Headers_AreSplitIntoContinuationFrames()
    {
        byte[] block = [.. Enumerable.Range(0, 25).Select(i => (byte)i)];
        var buffer = new byte[FrameWriter.HeadersSize(block.Length, 10)];

        int n = FrameWriter.WriteHeaders(buffer, 3, block, endStream: true, maxFrameSize: 10);

        Assert.Equal(25 + (3 * FrameHeader.Size), n);
        var frames = ReadFrames(buffer.AsSpan(0, n));
        Assert.Equal(
            [
                (Http2FrameType.Headers, Http2FrameFlags.EndStream, 10),
                (Http2FrameType.Continuation, Http2FrameFlags.None, 10),
                (Http2FrameType.Continuation, Http2FrameFlags.EndHeaders, 5),
            ],
            frames.Select(f => (f.Header.Type, f.Header.Flags, f.Header.Length)));
        Assert.All(frames, f => Assert.Equal(3, f.Header.StreamId));
        Assert.Equal(block, frames.SelectMany(f => f.Payload));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(10, 1)]
    [InlineData(11, 2)]
    [InlineData(20, 2)]
    public void Headers_FrameCount_FollowsTheBlockLength(int blockLength, int frames)
    {
        byte[] block = new byte[blockLength];
        var buffer = new byte[FrameWriter.HeadersSize(blockLength, 10)];

        int n = FrameWriter.WriteHeaders(buffer, 1, block, endStream: false, maxFrameSize: 10);

        var read = ReadFrames(buffer.AsSpan(0, n));
        Assert.Equal(frames, read.Count);
        Assert.Equal(Http2FrameType.Headers, read[0].Header.Type);
        Assert.False(read[0].Header.HasFlag(Http2FrameFlags.EndStream));
        Assert.Equal(Http2FrameFlags.EndHeaders, read[^1].Header.Flags & Http2FrameFlags.EndHeaders);
        Assert.Equal(1, read.Count(f => f.Header.HasFlag(Http2FrameFlags.EndHeaders)));
    }

    [Fact]
    public void BufferWriterOverloads_WriteTheSameBytes()
    {
        byte[] block = new byte[40];
        var span = new byte[256];
        var writer = new ArrayBufferWriter<byte>();
        int n = 0;

        n += FrameWriter.WriteSettings(span.AsSpan(n), [new(Http2SettingId.EnablePush, 0)]);
        FrameWriter.WriteSettings(writer, [new(Http2SettingId.EnablePush, 0)]);
        n += FrameWriter.WriteSettingsAck(span.AsSpan(n));
        FrameWriter.WriteSettingsAck(writer);
        n += FrameWriter.WritePing(span.AsSpan(n), 42, ack: false);
        FrameWriter.WritePing(writer, 42, ack: false);
        n += FrameWriter.WriteGoAway(span.AsSpan(n), 1, Http2ErrorCode.Cancel);
        FrameWriter.WriteGoAway(writer, 1, Http2ErrorCode.Cancel);
        n += FrameWriter.WriteRstStream(span.AsSpan(n), 1, Http2ErrorCode.Cancel);
        FrameWriter.WriteRstStream(writer, 1, Http2ErrorCode.Cancel);
        n += FrameWriter.WriteWindowUpdate(span.AsSpan(n), 1, 10);
        FrameWriter.WriteWindowUpdate(writer, 1, 10);
        n += FrameWriter.WriteData(span.AsSpan(n), 1, Ascii("x"), endStream: false);
        FrameWriter.WriteData(writer, 1, Ascii("x"), endStream: false);
        n += FrameWriter.WriteHeaders(span.AsSpan(n), 1, block, endStream: false, maxFrameSize: 16);
        FrameWriter.WriteHeaders(writer, 1, block, endStream: false, maxFrameSize: 16);

        Assert.Equal(ToHex(span.AsSpan(0, n)), ToHex(writer.WrittenSpan));
    }

    [Fact]
    public void CallerBugs_Throw()
    {
        var buffer = new byte[64];

        Assert.Throws<ArgumentException>(() => FrameWriter.WritePing(new byte[16], 1, ack: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameWriter.WriteData(buffer, 0, [], endStream: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameWriter.WriteRstStream(buffer, 0, Http2ErrorCode.Cancel));
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameWriter.WriteWindowUpdate(buffer, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameWriter.WriteHeaders(buffer, 0, [1], endStream: false, maxFrameSize: 16384));
        Assert.Throws<ArgumentOutOfRangeException>(() => FrameWriter.WriteHeaders(buffer, 1, [1], endStream: false, maxFrameSize: 0));
    }

    private static List<(FrameHeader Header, byte[] Payload)> ReadFrames(ReadOnlySpan<byte> bytes)
    {
        var frames = new List<(FrameHeader, byte[])>();
        while (FrameHeader.TryRead(bytes, out FrameHeader header))
        {
            frames.Add((header, bytes.Slice(FrameHeader.Size, header.Length).ToArray()));
            bytes = bytes[(FrameHeader.Size + header.Length)..];
        }

        Assert.True(bytes.IsEmpty);
        return frames;
    }
}
