using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// <c>header_table_size</c> below the protocol's 4096: until the client acknowledges our SETTINGS it may still index
/// with the 4096 bytes every connection starts with (RFC 9113 §6.5.3, RFC 7541 §4.2), so those blocks are decoded.
/// </summary>
public class Http2HeaderTableTests
{
    [Fact]
    public async Task BeforeTheAck_TheClientMayStillUseTheProtocolsTable()
    {
        await using H2FrameClient client = H2FrameClient.Open(limits: new Http2Limits { HeaderTableSize = 0 });
        await client.SendAsync(Http2Protocol.ClientPreface.ToArray());
        await client.SendSettingsAsync();
        Assert.Equal(Http2FrameType.Settings, (await client.ReadFrameAsync())!.Type);

        // The test client's encoder indexes with 4096 bytes: the second block refers to entries the first one added.
        await client.GetAsync(1, "/same");
        Assert.Equal(200, (await client.ReadResponseAsync(1)).Status);
        await client.GetAsync(3, "/same");
        Assert.Equal(200, (await client.ReadResponseAsync(3)).Status);
    }

    [Fact]
    public async Task ALargerTable_IsAdvertisedAndUsable()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(limits: new Http2Limits { HeaderTableSize = 65536 });

        Assert.Contains(client.ServerSettings!.Payload.Chunk(6), s => s[0] == 0 && s[1] == (byte)Http2SettingId.HeaderTableSize
            && (s[2] << 24 | s[3] << 16 | s[4] << 8 | s[5]) == 65536);
        await client.GetAsync(1, "/");
        Assert.Equal(200, (await client.ReadResponseAsync(1)).Status);
    }
}
