using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Tests.Http.H2;

public class Http2SettingsTests
{
    private static byte[] Payload(params (ushort Id, uint Value)[] settings)
    {
        var payload = new byte[6 * settings.Length];
        for (int i = 0; i < settings.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(6 * i), settings[i].Id);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan((6 * i) + 2), settings[i].Value);
        }

        return payload;
    }

    [Fact]
    public void Defaults_AreTheProtocolsInitialValues()
    {
        var settings = new Http2Settings();

        Assert.Equal(4096u, settings.HeaderTableSize);
        Assert.True(settings.EnablePush);
        Assert.Equal(uint.MaxValue, settings.MaxConcurrentStreams);
        Assert.Equal(65535u, settings.InitialWindowSize);
        Assert.Equal(16384u, settings.MaxFrameSize);
        Assert.Equal(uint.MaxValue, settings.MaxHeaderListSize);
    }

    [Fact]
    public void Apply_SetsEachValue_LaterOnesWinning_UnknownIgnored()
    {
        var settings = new Http2Settings();

        Http2Error error = settings.Apply(Payload((1, 8192), (2, 0), (3, 100), (4, 1 << 20), (5, 32768), (6, 65536), (0x99, 7), (3, 50)));

        Assert.False(error.IsError);
        Assert.Equal(8192u, settings.HeaderTableSize);
        Assert.False(settings.EnablePush);
        Assert.Equal(50u, settings.MaxConcurrentStreams);
        Assert.Equal(1u << 20, settings.InitialWindowSize);
        Assert.Equal(32768u, settings.MaxFrameSize);
        Assert.Equal(65536u, settings.MaxHeaderListSize);
    }

    [Theory]
    [InlineData(2, 2u, nameof(Http2ErrorCode.ProtocolError))]
    [InlineData(4, 0x80000000u, nameof(Http2ErrorCode.FlowControlError))]
    [InlineData(5, 16383u, nameof(Http2ErrorCode.ProtocolError))]
    [InlineData(5, 16777216u, nameof(Http2ErrorCode.ProtocolError))]
    public void InvalidValues_AreConnectionErrors_AndNothingIsApplied(ushort id, uint value, string code)
    {
        var settings = new Http2Settings();

        Http2Error error = settings.Apply(Payload((3, 10), (id, value)));

        Assert.Equal(Http2ErrorScope.Connection, error.Scope);
        Assert.Equal(Enum.Parse<Http2ErrorCode>(code), error.Code);
        Assert.Equal(uint.MaxValue, settings.MaxConcurrentStreams);
    }

    [Theory]
    [InlineData(4, 0x7FFFFFFFu)]
    [InlineData(5, 16384u)]
    [InlineData(5, 16777215u)]
    [InlineData(2, 1u)]
    [InlineData(1, 0u)]
    public void BoundaryValues_AreAccepted(ushort id, uint value)
    {
        var settings = new Http2Settings();

        Assert.False(settings.Apply(Payload((id, value))).IsError);
    }
}
