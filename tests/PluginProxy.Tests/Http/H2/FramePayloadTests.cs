using PluginProxy.Http.Codec.H2;
using static PluginProxy.Tests.Http.H2.H2TestSupport;

namespace PluginProxy.Tests.Http.H2;

/// <summary>Each frame type's payload checks (RFC 9113 §6) with the scope and code of the error.</summary>
public class FramePayloadTests
{
    private static FrameHeader Header(Http2FrameType type, Http2FrameFlags flags, int streamId, byte[] payload)
        => new(payload.Length, type, flags, streamId);

    private static void AssertError(Http2Error error, Http2ErrorScope scope, Http2ErrorCode code)
    {
        Assert.Equal(scope, error.Scope);
        Assert.Equal(code, error.Code);
        Assert.False(string.IsNullOrEmpty(error.Detail));
    }

    [Fact]
    public void Data_WithoutPadding_IsThePayload()
    {
        byte[] payload = Ascii("hello");

        Http2Error error = FramePayloads.ReadData(Header(Http2FrameType.Data, Http2FrameFlags.EndStream, 1, payload), payload, out DataPayload data);

        Assert.False(error.IsError);
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(payload[data.Data]));
        Assert.Equal(0, data.PadLength);
    }

    [Fact]
    public void Data_Padded_DropsThePadLengthAndPadding()
    {
        byte[] payload = [3, .. Ascii("hi"), 0, 0, 0];

        Http2Error error = FramePayloads.ReadData(Header(Http2FrameType.Data, Http2FrameFlags.Padded, 1, payload), payload, out DataPayload data);

        Assert.False(error.IsError);
        Assert.Equal("hi", System.Text.Encoding.ASCII.GetString(payload[data.Data]));
        Assert.Equal(3, data.PadLength);
    }

    [Theory]
    [InlineData(new byte[] { 5, 1, 2, 3, 4 })] // pad length = payload length
    [InlineData(new byte[] { 200, 1 })]
    [InlineData(new byte[] { 1 })]
    public void Data_PaddingAsLongAsThePayload_IsAConnectionProtocolError(byte[] payload)
    {
        Http2Error error = FramePayloads.ReadData(Header(Http2FrameType.Data, Http2FrameFlags.Padded, 1, payload), payload, out _);

        AssertError(error, Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public void Data_PaddingLeavingNoData_IsAccepted()
    {
        byte[] payload = [4, 0, 0, 0, 0];

        Http2Error error = FramePayloads.ReadData(Header(Http2FrameType.Data, Http2FrameFlags.Padded, 1, payload), payload, out DataPayload data);

        Assert.False(error.IsError);
        Assert.Equal(1..1, data.Data);
        Assert.Equal(4, data.PadLength);
    }

    [Fact]
    public void Data_PaddedButEmpty_IsAFrameSizeError()
    {
        Http2Error error = FramePayloads.ReadData(Header(Http2FrameType.Data, Http2FrameFlags.Padded, 1, []), [], out _);

        AssertError(error, Http2ErrorScope.Connection, Http2ErrorCode.FrameSizeError);
    }

    [Fact]
    public void Data_OnStreamZero_IsAConnectionProtocolError()
    {
        byte[] payload = [1];

        AssertError(FramePayloads.ReadData(Header(Http2FrameType.Data, 0, 0, payload), payload, out _), Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public void Headers_WithPriorityAndPadding_SkipsBoth()
    {
        byte[] payload = [2, 0x80, 0, 0, 1, 15, 0x82, 0x86, 0, 0];

        Http2Error error = FramePayloads.ReadHeaders(
            Header(Http2FrameType.Headers, Http2FrameFlags.Padded | Http2FrameFlags.Priority | Http2FrameFlags.EndHeaders, 3, payload),
            payload, out HeadersPayload headers);

        Assert.False(error.IsError);
        Assert.Equal("8286", ToHex(payload[headers.Fragment]));
        Assert.True(headers.HasPriority);
        Assert.Equal(new PriorityPayload(1, true, 15), headers.Priority);
    }

    [Fact]
    public void Headers_WithPriority_SkipsFiveBytes()
    {
        byte[] payload = [0, 0, 0, 0, 16, 0x82];

        Http2Error error = FramePayloads.ReadHeaders(Header(Http2FrameType.Headers, Http2FrameFlags.Priority, 1, payload), payload, out HeadersPayload headers);

        Assert.False(error.IsError);
        Assert.Equal("82", ToHex(payload[headers.Fragment]));
        Assert.Equal(new PriorityPayload(0, false, 16), headers.Priority);
    }

    [Fact]
    public void Headers_Errors()
    {
        byte[] block = [0x82];
        AssertError(FramePayloads.ReadHeaders(Header(Http2FrameType.Headers, 0, 0, block), block, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);

        byte[] shortPriority = [0, 0, 0, 1];
        AssertError(FramePayloads.ReadHeaders(Header(Http2FrameType.Headers, Http2FrameFlags.Priority, 1, shortPriority), shortPriority, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.FrameSizeError);

        byte[] padTooLong = [3, 0, 0, 0, 0, 16, 0x82];
        AssertError(
            FramePayloads.ReadHeaders(Header(Http2FrameType.Headers, Http2FrameFlags.Padded | Http2FrameFlags.Priority, 1, padTooLong), padTooLong, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);

        // Depending on itself: a stream error, with the fragment still given so the block can be decoded.
        byte[] self = [0, 0, 0, 5, 16, 0x82];
        Http2Error error = FramePayloads.ReadHeaders(Header(Http2FrameType.Headers, Http2FrameFlags.Priority, 5, self), self, out HeadersPayload headers);
        AssertError(error, Http2ErrorScope.Stream, Http2ErrorCode.ProtocolError);
        Assert.Equal("82", ToHex(self[headers.Fragment]));
    }

    [Fact]
    public void Priority_Checks()
    {
        byte[] payload = [0x80, 0, 0, 3, 255];
        Assert.False(FramePayloads.ReadPriority(Header(Http2FrameType.Priority, 0, 1, payload), payload, out PriorityPayload priority).IsError);
        Assert.Equal(new PriorityPayload(3, true, 255), priority);

        AssertError(FramePayloads.ReadPriority(Header(Http2FrameType.Priority, 0, 0, payload), payload, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);

        byte[] four = [0, 0, 0, 3];
        AssertError(FramePayloads.ReadPriority(Header(Http2FrameType.Priority, 0, 1, four), four, out _),
            Http2ErrorScope.Stream, Http2ErrorCode.FrameSizeError);
        byte[] six = [0, 0, 0, 3, 0, 0];
        AssertError(FramePayloads.ReadPriority(Header(Http2FrameType.Priority, 0, 1, six), six, out _),
            Http2ErrorScope.Stream, Http2ErrorCode.FrameSizeError);

        AssertError(FramePayloads.ReadPriority(Header(Http2FrameType.Priority, 0, 3, payload), payload, out _),
            Http2ErrorScope.Stream, Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public void RstStream_Checks()
    {
        byte[] payload = [0, 0, 0, 8];
        Assert.False(FramePayloads.ReadRstStream(Header(Http2FrameType.RstStream, 0, 1, payload), payload, out Http2ErrorCode code).IsError);
        Assert.Equal(Http2ErrorCode.Cancel, code);

        AssertError(FramePayloads.ReadRstStream(Header(Http2FrameType.RstStream, 0, 0, payload), payload, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);
        byte[] five = [0, 0, 0, 8, 0];
        AssertError(FramePayloads.ReadRstStream(Header(Http2FrameType.RstStream, 0, 1, five), five, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.FrameSizeError);
    }

    [Fact]
    public void Settings_Framing()
    {
        Assert.False(FramePayloads.CheckSettings(new FrameHeader(12, Http2FrameType.Settings, 0, 0)).IsError);
        Assert.False(FramePayloads.CheckSettings(new FrameHeader(0, Http2FrameType.Settings, 0, 0)).IsError);
        Assert.False(FramePayloads.CheckSettings(new FrameHeader(0, Http2FrameType.Settings, Http2FrameFlags.Ack, 0)).IsError);

        AssertError(FramePayloads.CheckSettings(new FrameHeader(6, Http2FrameType.Settings, Http2FrameFlags.Ack, 0)),
            Http2ErrorScope.Connection, Http2ErrorCode.FrameSizeError);
        AssertError(FramePayloads.CheckSettings(new FrameHeader(7, Http2FrameType.Settings, 0, 0)),
            Http2ErrorScope.Connection, Http2ErrorCode.FrameSizeError);
        AssertError(FramePayloads.CheckSettings(new FrameHeader(6, Http2FrameType.Settings, 0, 1)),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public void PushPromise_Checks()
    {
        byte[] payload = [1, 0x80, 0, 0, 2, 0x82, 0];
        Assert.False(FramePayloads.ReadPushPromise(Header(Http2FrameType.PushPromise, Http2FrameFlags.Padded, 1, payload), payload, out PushPromisePayload promise).IsError);
        Assert.Equal(2, promise.PromisedStreamId);
        Assert.Equal("82", ToHex(payload[promise.Fragment]));

        AssertError(FramePayloads.ReadPushPromise(Header(Http2FrameType.PushPromise, 0, 0, payload), payload, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);
        byte[] tooShort = [0, 0, 2];
        AssertError(FramePayloads.ReadPushPromise(Header(Http2FrameType.PushPromise, 0, 1, tooShort), tooShort, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.FrameSizeError);
    }

    [Fact]
    public void Ping_Checks()
    {
        byte[] payload = Hex("0102030405060708");
        Assert.False(FramePayloads.ReadPing(Header(Http2FrameType.Ping, 0, 0, payload), payload, out ulong data).IsError);
        Assert.Equal(0x0102030405060708UL, data);

        AssertError(FramePayloads.ReadPing(Header(Http2FrameType.Ping, 0, 1, payload), payload, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);
        byte[] seven = payload[..7];
        AssertError(FramePayloads.ReadPing(Header(Http2FrameType.Ping, 0, 0, seven), seven, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.FrameSizeError);
    }

    [Fact]
    public void GoAway_Checks()
    {
        byte[] payload = Hex("80000007 0000000b 6869");
        Assert.False(FramePayloads.ReadGoAway(Header(Http2FrameType.GoAway, 0, 0, payload), payload, out GoAwayPayload goAway).IsError);
        Assert.Equal(7, goAway.LastStreamId);
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, goAway.ErrorCode);
        Assert.Equal("hi", System.Text.Encoding.ASCII.GetString(payload[goAway.DebugData]));

        AssertError(FramePayloads.ReadGoAway(Header(Http2FrameType.GoAway, 0, 1, payload), payload, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);
        byte[] seven = payload[..7];
        AssertError(FramePayloads.ReadGoAway(Header(Http2FrameType.GoAway, 0, 0, seven), seven, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.FrameSizeError);
    }

    [Fact]
    public void WindowUpdate_Checks()
    {
        byte[] payload = Hex("80000400");
        Assert.False(FramePayloads.ReadWindowUpdate(Header(Http2FrameType.WindowUpdate, 0, 0, payload), payload, out int increment).IsError);
        Assert.Equal(1024, increment);

        byte[] zero = Hex("80000000");
        AssertError(FramePayloads.ReadWindowUpdate(Header(Http2FrameType.WindowUpdate, 0, 0, zero), zero, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);
        AssertError(FramePayloads.ReadWindowUpdate(Header(Http2FrameType.WindowUpdate, 0, 5, zero), zero, out _),
            Http2ErrorScope.Stream, Http2ErrorCode.ProtocolError);
        byte[] three = payload[..3];
        AssertError(FramePayloads.ReadWindowUpdate(Header(Http2FrameType.WindowUpdate, 0, 5, three), three, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.FrameSizeError);
    }

    [Fact]
    public void Continuation_Checks()
    {
        byte[] payload = [0x82, 0x86];
        Assert.False(FramePayloads.ReadContinuation(Header(Http2FrameType.Continuation, Http2FrameFlags.EndHeaders, 1, payload), payload, out Range fragment).IsError);
        Assert.Equal("8286", ToHex(payload[fragment]));

        AssertError(FramePayloads.ReadContinuation(Header(Http2FrameType.Continuation, 0, 0, payload), payload, out _),
            Http2ErrorScope.Connection, Http2ErrorCode.ProtocolError);
    }

    [Theory]
    [InlineData(nameof(Http2FrameType.Data), 1, nameof(Http2ErrorScope.Stream))]
    [InlineData(nameof(Http2FrameType.Headers), 1, nameof(Http2ErrorScope.Connection))]
    [InlineData(nameof(Http2FrameType.Continuation), 1, nameof(Http2ErrorScope.Connection))]
    [InlineData(nameof(Http2FrameType.PushPromise), 1, nameof(Http2ErrorScope.Connection))]
    [InlineData(nameof(Http2FrameType.Settings), 0, nameof(Http2ErrorScope.Connection))]
    [InlineData(nameof(Http2FrameType.WindowUpdate), 0, nameof(Http2ErrorScope.Connection))]
    [InlineData(nameof(Http2FrameType.WindowUpdate), 3, nameof(Http2ErrorScope.Stream))]
    public void FramesAboveTheMaxFrameSize_AreFrameSizeErrors(string type, int streamId, string scope)
    {
        var header = new FrameHeader(16385, Enum.Parse<Http2FrameType>(type), 0, streamId);

        AssertError(FramePayloads.CheckLength(header, 16384), Enum.Parse<Http2ErrorScope>(scope), Http2ErrorCode.FrameSizeError);
        Assert.False(FramePayloads.CheckLength(header, 16385).IsError);
    }

    [Fact]
    public void APayloadOfTheWrongLength_IsACallerBug()
    {
        Assert.Throws<ArgumentException>(() => FramePayloads.ReadPing(new FrameHeader(8, Http2FrameType.Ping, 0, 0), new byte[7], out _));
    }
}
