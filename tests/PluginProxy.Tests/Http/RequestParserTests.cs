using System.Text;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Tests.Http;

/// <summary>
/// The request head parser, category by category: what must be refused (request smuggling and malformed input) and the
/// legal cases that must still pass.
/// </summary>
public class RequestParserTests
{
    internal static (ParseStatus Status, HttpParseError Error, RequestFacts Facts) Parse(string head)
    {
        var facts = new RequestFacts();
        facts.Reset();
        ParseStatus status = HeadParser.ParseRequest(Encoding.Latin1.GetBytes(head), facts, out HttpParseError error);
        return (status, error, facts);
    }

    private static void AssertRefused(string head, HttpParseError expected) => AssertRefused(head, expected.ToString());

    private static void AssertRefused(string head, string expected)
    {
        var (status, error, _) = Parse(head);
        Assert.Equal(ParseStatus.Error, status);
        Assert.Equal(expected, error.ToString());
    }

    private static RequestFacts AssertAccepted(string head)
    {
        var (status, error, facts) = Parse(head);
        Assert.True(status == ParseStatus.Complete, $"refused with {error}");
        return facts;
    }

    [Fact]
    public void SimpleGet_GivesMethodTargetVersionAndHeaders()
    {
        string head = "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
        byte[] bytes = Encoding.ASCII.GetBytes(head);
        RequestFacts facts = AssertAccepted(head);

        Assert.Equal("GET", Encoding.ASCII.GetString(bytes[facts.Method]));
        Assert.Equal("/a/b?c=d", Encoding.ASCII.GetString(bytes[facts.Target]));
        Assert.Equal(HttpProtocol.Http11, facts.Version);
        Assert.Equal(2, facts.HeaderCount);
        Assert.Equal(bytes.Length, facts.HeadLength);
        Assert.Equal("example.com", Encoding.ASCII.GetString(bytes[facts.Host]));
        Assert.Equal(-1, facts.ContentLength);
        Assert.False(facts.Chunked);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r")]
    [InlineData("GET / HTT")]
    [InlineData("")]
    [InlineData("\r\n")]
    public void IncompleteHead_AsksForMore(string head) => Assert.Equal(ParseStatus.Incomplete, Parse(head).Status);

    // Point 5 of the issue, category by category.

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n")]
    public void ContentLengthWithTransferEncoding_IsRefused(string head) =>
        AssertRefused(head, HttpParseError.ContentLengthWithTransferEncoding);

    [Theory]
    [InlineData("Content-Length: 5\r\nContent-Length: 6", nameof(HttpParseError.ContentLengthConflict))]
    [InlineData("Content-Length: 5, 6", nameof(HttpParseError.ContentLengthConflict))]
    [InlineData("Content-Length: ", nameof(HttpParseError.ContentLengthInvalid))]
    [InlineData("Content-Length: +5", nameof(HttpParseError.ContentLengthInvalid))]
    [InlineData("Content-Length: -5", nameof(HttpParseError.ContentLengthInvalid))]
    [InlineData("Content-Length: 0x10", nameof(HttpParseError.ContentLengthInvalid))]
    [InlineData("Content-Length: 5.0", nameof(HttpParseError.ContentLengthInvalid))]
    [InlineData("Content-Length: 5 5", nameof(HttpParseError.ContentLengthInvalid))]
    [InlineData("Content-Length: 5,", nameof(HttpParseError.ContentLengthInvalid))]
    [InlineData("Content-Length: \t5", nameof(HttpParseError.ContentLengthInvalid))]
    [InlineData("Content-Length: 99999999999999999999999", nameof(HttpParseError.ContentLengthOverflow))]
    public void BadContentLength_IsRefused(string field, string expected) =>
        AssertRefused($"POST / HTTP/1.1\r\nHost: a\r\n{field}\r\n\r\n", expected);

    [Theory]
    [InlineData("Content-Length: 5\r\nContent-Length: 5")]
    [InlineData("Content-Length: 5, 5")]
    [InlineData("Content-Length: 005")]
    public void RepeatedIdenticalContentLength_IsOne(string field) =>
        Assert.Equal(5, AssertAccepted($"POST / HTTP/1.1\r\nHost: a\r\n{field}\r\n\r\n").ContentLength);

    [Theory]
    [InlineData("Transfer-Encoding: gzip", nameof(HttpParseError.TransferEncodingNotChunkedLast))]
    [InlineData("Transfer-Encoding: chunked, gzip", nameof(HttpParseError.TransferEncodingNotChunkedLast))]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip", nameof(HttpParseError.TransferEncodingNotChunkedLast))]
    [InlineData("Transfer-Encoding: foo", nameof(HttpParseError.TransferEncodingUnknown))]
    [InlineData("Transfer-Encoding: foo, chunked", nameof(HttpParseError.TransferEncodingUnknown))]
    [InlineData("Transfer-Encoding: chunked, chunked", nameof(HttpParseError.TransferEncodingChunkedTwice))]
    [InlineData("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", nameof(HttpParseError.TransferEncodingChunkedTwice))]
    [InlineData("Transfer-Encoding: \"chunked\"", nameof(HttpParseError.TransferEncodingInvalid))]
    [InlineData("Transfer-Encoding: \tchunked", nameof(HttpParseError.TransferEncodingInvalid))]
    [InlineData("Transfer-Encoding: chunked\t", nameof(HttpParseError.TransferEncodingInvalid))]
    [InlineData("Transfer-Encoding: ,chunked", nameof(HttpParseError.TransferEncodingInvalid))]
    [InlineData("Transfer-Encoding: chunked,", nameof(HttpParseError.TransferEncodingInvalid))]
    [InlineData("Transfer-Encoding: chunked;q=1", nameof(HttpParseError.TransferEncodingInvalid))]
    [InlineData("Transfer-Encoding: chunked\u000b", nameof(HttpParseError.HeaderValueInvalid))]
    [InlineData("Transfer-Encoding: x chunked", nameof(HttpParseError.TransferEncodingInvalid))]
    [InlineData("Transfer-Encoding:", nameof(HttpParseError.TransferEncodingInvalid))]
    [InlineData("Transfer-Encoding : chunked", nameof(HttpParseError.HeaderNameWhitespace))]
    [InlineData("Transfer-Encoding\t: chunked", nameof(HttpParseError.HeaderNameWhitespace))]
    [InlineData(" Transfer-Encoding: chunked", nameof(HttpParseError.ObsFold))]
    public void BadTransferEncoding_IsRefused(string field, string expected) =>
        AssertRefused($"POST / HTTP/1.1\r\nHost: a\r\n{field}\r\n\r\n", expected);

    [Fact]
    public void TransferEncodingOnHttp10_IsRefused() =>
        AssertRefused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HttpParseError.TransferEncodingOnHttp10);

    [Theory]
    [InlineData("Transfer-Encoding: chunked")]
    [InlineData("Transfer-Encoding: CHUNKED")]
    [InlineData("Transfer-Encoding: Chunked")]
    [InlineData("Transfer-Encoding:chunked")]
    [InlineData("Transfer-Encoding:   chunked   ")]
    [InlineData("Transfer-Encoding: gzip, chunked")]
    [InlineData("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked")]
    public void LegalTransferEncoding_IsChunked(string field) =>
        Assert.True(AssertAccepted($"POST / HTTP/1.1\r\nHost: a\r\n{field}\r\n\r\n").Chunked);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n\ttwo\r\n\r\n")]
    public void ObsFold_IsRefused(string head) => AssertRefused(head, HttpParseError.ObsFold);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX: y\rz\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nX\r: y\r\n\r\n")]
    [InlineData("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n")]
    public void BareCr_IsRefused(string head) => AssertRefused(head, HttpParseError.BareCr);

    [Theory]
    [InlineData("GET / HTTP/1.1\nHost: a\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\n")]
    [InlineData("GET / HTTP/1.1\nHost: a\n\n")]
    [InlineData("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")]
    public void BareLf_IsRefused_AsTheSafestReading(string head) => AssertRefused(head, HttpParseError.BareLf);

    [Fact]
    public void BareLf_IsRefusedBeforeTheHeadIsComplete() =>
        AssertRefused("GET / HTTP/1.1\nHost: a", HttpParseError.BareLf);

    [Theory]
    [InlineData("X-A: a\0b", nameof(HttpParseError.HeaderValueInvalid))]
    [InlineData("X-A: a\u0001b", nameof(HttpParseError.HeaderValueInvalid))]
    [InlineData("X-A: a\u007fb", nameof(HttpParseError.HeaderValueInvalid))]
    [InlineData("X-A: a\u001bb", nameof(HttpParseError.HeaderValueInvalid))]
    [InlineData("X-\0A: ab", nameof(HttpParseError.HeaderNameInvalid))]
    [InlineData("X-\u0001A: ab", nameof(HttpParseError.HeaderNameInvalid))]
    public void ControlBytes_AreRefused(string field, string expected) =>
        AssertRefused($"GET / HTTP/1.1\r\nHost: a\r\n{field}\r\n\r\n", expected);

    [Theory]
    [InlineData("NoColonHere", nameof(HttpParseError.HeaderNoColon))]
    [InlineData("No Colon Here", nameof(HttpParseError.HeaderNoColon))]
    [InlineData(": empty-name", nameof(HttpParseError.HeaderNameEmpty))]
    [InlineData("X(A): b", nameof(HttpParseError.HeaderNameInvalid))]
    [InlineData("X@A: b", nameof(HttpParseError.HeaderNameInvalid))]
    [InlineData("\"X\": b", nameof(HttpParseError.HeaderNameInvalid))]
    [InlineData("X A: b", nameof(HttpParseError.HeaderNameWhitespace))]
    public void BadHeaderLine_IsRefused(string field, string expected) =>
        AssertRefused($"GET / HTTP/1.1\r\nHost: a\r\n{field}\r\n\r\n", expected);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n\r\n", nameof(HttpParseError.HostMissing))]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", nameof(HttpParseError.HostDuplicate))]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", nameof(HttpParseError.HostDuplicate))]
    [InlineData("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", nameof(HttpParseError.HostDuplicate))]
    [InlineData("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", nameof(HttpParseError.HostInvalid))]
    [InlineData("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", nameof(HttpParseError.HostInvalid))]
    [InlineData("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", nameof(HttpParseError.HostInvalid))]
    public void BadHost_IsRefused(string head, string expected) => AssertRefused(head, expected);

    [Fact]
    public void Http10WithoutHost_IsAccepted() =>
        Assert.Equal(HttpProtocol.Http10, AssertAccepted("GET / HTTP/1.0\r\n\r\n").Version);

    [Theory]
    [InlineData("GET  / HTTP/1.1", nameof(HttpParseError.RequestLineMalformed))]
    [InlineData("GET /  HTTP/1.1", nameof(HttpParseError.RequestLineMalformed))]
    [InlineData("GET / HTTP/1.1 ", nameof(HttpParseError.RequestLineMalformed))]
    [InlineData(" GET / HTTP/1.1", nameof(HttpParseError.RequestLineMalformed))]
    [InlineData("GET\t/ HTTP/1.1", nameof(HttpParseError.MethodInvalid))]
    [InlineData("GET /\tHTTP/1.1", nameof(HttpParseError.RequestLineMalformed))]
    [InlineData("GET / HTTP/1.1\t", nameof(HttpParseError.VersionInvalid))]
    [InlineData("GET /", nameof(HttpParseError.RequestLineMalformed))]
    [InlineData("GET", nameof(HttpParseError.RequestLineMalformed))]
    [InlineData("GET / HTTP/1.2", nameof(HttpParseError.VersionInvalid))]
    [InlineData("GET / HTTP/1", nameof(HttpParseError.VersionInvalid))]
    [InlineData("GET / http/1.1", nameof(HttpParseError.VersionInvalid))]
    [InlineData("GET / HTTP/01.1", nameof(HttpParseError.VersionInvalid))]
    [InlineData("GET / HTTP/2.0", nameof(HttpParseError.VersionNotSupported))]
    [InlineData("G(T / HTTP/1.1", nameof(HttpParseError.MethodInvalid))]
    [InlineData("GET /é HTTP/1.1", nameof(HttpParseError.TargetInvalid))]
    [InlineData("GET a/b HTTP/1.1", nameof(HttpParseError.TargetInvalid))]
    [InlineData("GET * HTTP/1.1", nameof(HttpParseError.TargetInvalid))]
    [InlineData("CONNECT a:443 HTTP/1.1", nameof(HttpParseError.MethodNotSupported))]
    public void MalformedRequestLine_IsRefused(string line, string expected) =>
        AssertRefused($"{line}\r\nHost: a\r\n\r\n", expected);

    [Theory]
    [InlineData("OPTIONS * HTTP/1.1")]
    [InlineData("GET http://example.com/x?y HTTP/1.1")]
    [InlineData("GET HTTPS://example.com HTTP/1.1")]
    [InlineData("PURGE /cache HTTP/1.1")]
    public void OtherLegalRequestLines_Pass(string line) => AssertAccepted($"{line}\r\nHost: a\r\n\r\n");

    [Fact]
    public void Expect100Continue_IsRecognized_OtherExpectationsAreRefused()
    {
        Assert.True(AssertAccepted("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n").ExpectContinue);
        AssertRefused("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", HttpParseError.ExpectationUnsupported);
    }

    [Fact]
    public void TooManyHeaders_IsRefused()
    {
        string fields = string.Concat(Enumerable.Range(0, HeadParser.MaxHeaders + 1).Select(i => $"X-{i}: v\r\n"));
        AssertRefused($"GET / HTTP/1.1\r\nHost: a\r\n{fields}\r\n", HttpParseError.TooManyHeaders);
    }

    // The legal cases that must still pass.

    [Fact]
    public void OwsAroundValues_IsTrimmed()
    {
        string head = "GET / HTTP/1.1\r\nHost:a\r\nX-A:  \t spaced out \t \r\n\r\n";
        RequestFacts facts = AssertAccepted(head);
        HeaderRange x = facts.Headers[1];
        Assert.Equal("spaced out", head.Substring(x.ValueStart, x.ValueLength));
    }

    [Fact]
    public void EmptyValue_IsAccepted() =>
        Assert.Equal(0, AssertAccepted("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n").Headers[1].ValueLength);

    [Fact]
    public void ObsTextInValues_IsAccepted() => AssertAccepted("GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\u00e9\r\n\r\n");

    [Fact]
    public void GetWithABody_IsAccepted() =>
        Assert.Equal(4, AssertAccepted("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody").ContentLength);

    [Fact]
    public void LeadingEmptyLines_AreSkipped()
    {
        RequestFacts facts = AssertAccepted("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(4, facts.Lead);
    }

    [Fact]
    public void PipelinedRequests_ParseOneAtATime()
    {
        string two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
        RequestFacts first = AssertAccepted(two);
        Assert.Equal(two.Length / 2, first.HeadLength);
        RequestFacts second = AssertAccepted(two[first.HeadLength..]);
        Assert.Equal("/2", two[first.HeadLength..].Substring(second.Target.Start.Value, 2));
    }

    [Fact]
    public void ConnectionTokens_AreRead()
    {
        RequestFacts facts = AssertAccepted("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade, X-Hop\r\nUpgrade: websocket\r\n\r\n");
        Assert.True(facts.ConnectionKeepAlive);
        Assert.True(facts.ConnectionUpgrade);
        Assert.True(facts.HasUpgradeHeader);
        Assert.Equal(1, facts.ConnectionTokenCount);
    }

    [Fact]
    public void HeadArrivingByteByByte_IsParsedOnceComplete()
    {
        string head = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        byte[] bytes = Encoding.ASCII.GetBytes(head);
        var facts = new RequestFacts();
        facts.Reset();
        for (int n = 1; n < bytes.Length; n++)
        {
            Assert.Equal(ParseStatus.Incomplete, HeadParser.ParseRequest(bytes.AsSpan(0, n), facts, out _));
        }

        Assert.Equal(ParseStatus.Complete, HeadParser.ParseRequest(bytes, facts, out _));
        Assert.True(facts.Chunked);
    }
}
