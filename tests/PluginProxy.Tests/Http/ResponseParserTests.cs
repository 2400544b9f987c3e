using System.Text;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Tests.Http;

/// <summary>The same strictness on responses (a refused response becomes a 502).</summary>
public class ResponseParserTests
{
    private static (ParseStatus Status, HttpParseError Error, ResponseFacts Facts) Parse(string head)
    {
        var facts = new ResponseFacts();
        facts.Reset();
        ParseStatus status = HeadParser.ParseResponse(Encoding.Latin1.GetBytes(head), facts, out HttpParseError error);
        return (status, error, facts);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200, 5L)]
    [InlineData("HTTP/1.0 404 Not Found\r\n\r\n", 404, -1L)]
    [InlineData("HTTP/1.1 204\r\n\r\n", 204, -1L)]
    [InlineData("HTTP/1.1 204 \r\n\r\n", 204, -1L)]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n", 100, -1L)]
    [InlineData("HTTP/1.1 599 Strange\tBut Legal\r\n\r\n", 599, -1L)]
    public void ValidResponses_Parse(string head, int status, long contentLength)
    {
        var (result, error, facts) = Parse(head);

        Assert.True(result == ParseStatus.Complete, error.ToString());
        Assert.Equal(status, facts.Status);
        Assert.Equal(contentLength, facts.ContentLength);
    }

    [Fact]
    public void ChunkedResponse_IsChunked()
    {
        var (_, _, facts) = Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        Assert.True(facts.Chunked);
        Assert.Equal(HttpProtocol.Http11, facts.Version);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\n", nameof(HttpParseError.BareLf))]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", nameof(HttpParseError.ContentLengthWithTransferEncoding))]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", nameof(HttpParseError.ContentLengthConflict))]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", nameof(HttpParseError.TransferEncodingChunkedTwice))]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", nameof(HttpParseError.TransferEncodingNotChunkedLast))]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", nameof(HttpParseError.ObsFold))]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n", nameof(HttpParseError.HeaderValueInvalid))]
    [InlineData("HTTP/1.1 20 OK\r\n\r\n", nameof(HttpParseError.StatusLineMalformed))]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n", nameof(HttpParseError.StatusLineMalformed))]
    [InlineData("HTTP/1.1 099 Low\r\n\r\n", nameof(HttpParseError.StatusLineMalformed))]
    [InlineData("HTTP/2 200 OK\r\n\r\n", nameof(HttpParseError.StatusLineMalformed))]
    [InlineData("HTTP/1.1  200 OK\r\n\r\n", nameof(HttpParseError.StatusLineMalformed))]
    [InlineData("ICY 200 OK\r\n\r\n", nameof(HttpParseError.StatusLineMalformed))]
    [InlineData("garbage\r\n\r\n", nameof(HttpParseError.StatusLineMalformed))]
    public void BadResponses_AreRefused(string head, string expected)
    {
        var (status, error, _) = Parse(head);

        Assert.Equal(ParseStatus.Error, status);
        Assert.Equal(expected, error.ToString());
    }
}
