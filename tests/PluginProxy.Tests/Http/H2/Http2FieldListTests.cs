using System.Text;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec.H2;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>The fields of the heads we send: lowercase, no connection-specific field (RFC 9113 §8.2.2).</summary>
public class Http2FieldListTests
{
    [Fact]
    public void AddFrom_LowercasesNames_AndDropsConnectionSpecificFields_AndThoseConnectionNames()
    {
        var head = new HttpResponseHead();
        byte[] source = Encoding.ASCII.GetBytes("Server: t1X-Hop: 1");
        head.Reset(source, 200, default, HttpProtocol.Http11, null);
        head.Headers.AddReceived(0, 6, 8, 2);
        head.Headers.AddReceived(10, 5, 17, 1);
        head.Headers.Add("Connection", "x-hop, close");
        head.Headers.Add("Keep-Alive", "timeout=5");
        head.Headers.Add("Transfer-Encoding", "chunked");
        head.Headers.Add("Upgrade", "h2c");
        head.Headers.Add("Proxy-Connection", "close");
        head.Headers.Add("Content-Type", "text/plain");

        var fields = new Http2FieldList();
        fields.AddStatus(404);
        fields.AddFrom(head.Headers);

        var pairs = Enumerable.Range(0, fields.Count)
            .Select(i => (Encoding.ASCII.GetString(fields.Name(i)), Encoding.ASCII.GetString(fields.Value(i)))).ToList();
        Assert.Equal(new List<(string, string)> { (":status", "404"), ("server", "t1"), ("content-type", "text/plain") }, pairs);
    }

    [Fact]
    public async Task AResponseHead_IsSentWithoutItsHopByHopFields()
    {
        await using H2FrameClient client = await H2FrameClient.StartAsync(async stream =>
        {
            var head = new HttpResponseHead();
            head.Reset([], 201, default, HttpProtocol.Http11, null);
            head.Headers.Add("Connection", "x-hop");
            head.Headers.Add("X-Hop", "1");
            head.Headers.Add("ETag", "\"v1\"");
            await stream.WriteResponseHeadAsync(head, endStream: true);
        });
        await client.GetAsync(1, "/");
        H2Response response = await client.ReadResponseAsync(1);
        Assert.Equal(201, response.Status);
        Assert.Equal(new List<(string, string)> { (":status", "201"), ("etag", "\"v1\"") }, response.Fields);
    }
}
