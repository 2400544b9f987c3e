using PluginProxy.Abstractions.Http;
using PluginProxy.Compression;

namespace PluginProxy.Tests.Http.Compression;

/// <summary>The compress analyzer's reading of Accept-Encoding (RFC 9110 §12.5.3): weights first, then the listener's order.</summary>
public class AcceptEncodingTests
{
    private static readonly ContentCoding[] BrFirst = [ContentCoding.Brotli, ContentCoding.Gzip];
    private static readonly ContentCoding[] GzipOnly = [ContentCoding.Gzip];

    private static HttpRequestHead Request(params string[] acceptEncoding)
    {
        var head = new HttpRequestHead();
        foreach (string value in acceptEncoding)
        {
            head.Headers.Add("Accept-Encoding", value);
        }

        return head;
    }

    [Theory]
    [InlineData("gzip", "Gzip")]
    [InlineData("br", "Brotli")]
    [InlineData("gzip, br", "Brotli")]
    [InlineData("gzip;q=0.9, br;q=0.8", "Gzip")]
    [InlineData("gzip ; q=1 , br ; q=1", "Brotli")]
    [InlineData("br;q=0, gzip;q=0.001", "Gzip")]
    [InlineData("br;q=0, gzip;q=0", "Identity")]
    [InlineData("*", "Brotli")]
    [InlineData("*;q=0", "Identity")]
    [InlineData("br;q=0, *;q=0.5", "Gzip")]
    [InlineData("x-gzip", "Gzip")]
    [InlineData("identity", "Identity")]
    [InlineData("", "Identity")]
    [InlineData("br;q=2, gzip", "Gzip")]
    [InlineData("br;q=abc, gzip;q=0.1", "Gzip")]
    [InlineData("deflate, compress", "Identity")]
    public void TheCodingIsTheClientsFavourite_AmongThoseOffered(string header, string expected) =>
        Assert.Equal(expected, AcceptEncoding.Choose(Request(header), BrFirst).ToString());

    [Fact]
    public void NoField_MeansNoCoding() => Assert.Equal(ContentCoding.Identity, AcceptEncoding.Choose(Request(), BrFirst));

    [Fact]
    public void SeveralFields_AreOneList() =>
        Assert.Equal(ContentCoding.Gzip, AcceptEncoding.Choose(Request("br;q=0.1", "gzip;q=0.5"), BrFirst));

    [Fact]
    public void ACodingTheListenerDoesNotOffer_IsNeverChosen() =>
        Assert.Equal(ContentCoding.Identity, AcceptEncoding.Choose(Request("br"), GzipOnly));
}
