using System.Text;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Tests.Http;

/// <summary>The path normaliser on its own, and the parser that applies it once to every request-target.</summary>
public class PathNormalizerTests
{
    private static (HttpParseError Error, string Path) Normalize(string path)
    {
        byte[] input = Encoding.ASCII.GetBytes(path);
        var output = new byte[input.Length];
        HttpParseError error = PathNormalizer.Normalize(input, output, out int length);
        return (error, Encoding.ASCII.GetString(output, 0, length));
    }

    [Theory]
    [InlineData("/", "/")]
    [InlineData("/a/b/c", "/a/b/c")]
    [InlineData("/a/b/", "/a/b/")]
    [InlineData("//", "/")]
    [InlineData("//a///b//", "/a/b/")]
    [InlineData("/.", "/")]
    [InlineData("/./", "/")]
    [InlineData("/a/.", "/a/")]
    [InlineData("/a/..", "/")]
    [InlineData("/a/../", "/")]
    [InlineData("/a/b/../c", "/a/c")]
    [InlineData("/a/./b/./c", "/a/b/c")]
    [InlineData("/a/b/c/../../d", "/a/d")]
    [InlineData("/a/.b/..c/.../c.", "/a/.b/..c/.../c.")]
    [InlineData("/%2e", "/")]
    [InlineData("/a/%2E%2e/b", "/b")]
    [InlineData("/a/.%2e/b", "/b")]
    [InlineData("/%41%5a%61%7A%30%39%2D%2E%5F%7E", "/AZaz09-._~")]
    [InlineData("/%3a%3F%23%25%20%c3%A9", "/%3A%3F%23%25%20%C3%A9")]
    [InlineData("/%252e%252e/x", "/%252e%252e/x")]
    [InlineData("/a;b/c;d=1", "/a;b/c;d=1")]
    [InlineData("/a/..//b", "/b")]
    public void Path_IsNormalised(string path, string expected)
    {
        var (error, normalised) = Normalize(path);

        Assert.Equal(HttpParseError.None, error);
        Assert.Equal(expected, normalised);
    }

    [Theory]
    [InlineData("/a%2Fb", nameof(HttpParseError.PathEncodedSeparator))]
    [InlineData("/a%2fb", nameof(HttpParseError.PathEncodedSeparator))]
    [InlineData("/a%5Cb", nameof(HttpParseError.PathEncodedSeparator))]
    [InlineData("/a\\b", nameof(HttpParseError.PathBackslash))]
    [InlineData("/a%00", nameof(HttpParseError.PathEncodedNul))]
    [InlineData("/a%", nameof(HttpParseError.PathPercentInvalid))]
    [InlineData("/a%4", nameof(HttpParseError.PathPercentInvalid))]
    [InlineData("/a%g1", nameof(HttpParseError.PathPercentInvalid))]
    [InlineData("/a%1g", nameof(HttpParseError.PathPercentInvalid))]
    [InlineData("/a%%41", nameof(HttpParseError.PathPercentInvalid))]
    [InlineData("/..", nameof(HttpParseError.PathAboveRoot))]
    [InlineData("/../a", nameof(HttpParseError.PathAboveRoot))]
    [InlineData("/a/../..", nameof(HttpParseError.PathAboveRoot))]
    [InlineData("/./../a", nameof(HttpParseError.PathAboveRoot))]
    [InlineData("/%2e%2e/a", nameof(HttpParseError.PathAboveRoot))]
    [InlineData("/a/..;/b", nameof(HttpParseError.PathDotSegmentParameters))]
    [InlineData("/a/.;x/b", nameof(HttpParseError.PathDotSegmentParameters))]
    public void PathThatCannotBeNormalisedSafely_IsRefused(string path, string expected) =>
        Assert.Equal(expected, Normalize(path).Error.ToString());

    [Theory]
    [InlineData("/", false)]
    [InlineData("/a/b.html", false)]
    [InlineData("/a.b/c..d/", false)]
    [InlineData("/a/.well-known", true)]
    [InlineData("/a//b", true)]
    [InlineData("/a%20b", true)]
    [InlineData("/a\\b", true)]
    public void NeedsWork_SaysWhichPathsMayChange(string path, bool expected) =>
        Assert.Equal(expected, PathNormalizer.NeedsWork(Encoding.ASCII.GetBytes(path)));

    [Fact]
    public void NormalisingAChangedPath_IsIdempotent()
    {
        foreach (string path in new[] { "/x/%2e%2e/%61dmin//", "/a/./b/../%7e", "/%3a%c3%a9/./" })
        {
            string once = Normalize(path).Path;
            Assert.Equal(once, Normalize(once).Path);
        }
    }

    private static RequestFacts Parse(string head)
    {
        var facts = new RequestFacts();
        facts.Reset();
        Assert.Equal(ParseStatus.Complete, HeadParser.ParseRequest(Encoding.ASCII.GetBytes(head), facts, out HttpParseError error));
        Assert.Equal(HttpParseError.None, error);
        return facts;
    }

    [Theory]
    [InlineData("GET /a/b?c=/../d HTTP/1.1", "", "/a/b", "?c=/../d", false)]
    [InlineData("GET /a/%2e%2e/b?c HTTP/1.1", "", "/b", "?c", true)]
    [InlineData("GET http://h.example:81/a//b?c HTTP/1.1", "h.example:81", "/a/b", "?c", true)]
    [InlineData("GET http://h.example/a HTTP/1.1", "h.example", "/a", "", false)]
    [InlineData("GET https://h.example?c HTTP/1.1", "h.example", "/", "?c", true)]
    [InlineData("OPTIONS * HTTP/1.1", "", "*", "", false)]
    public void Parser_SplitsTheTarget_AndNormalisesThePathOnce(string line, string authority, string path, string query, bool rewritten)
    {
        string head = $"{line}\r\nHost: h\r\n\r\n";
        byte[] bytes = Encoding.ASCII.GetBytes(head);
        RequestFacts facts = Parse(head);

        Assert.Equal(authority, Encoding.ASCII.GetString(bytes[facts.Authority]));
        Assert.Equal(authority.Length > 0, facts.AbsoluteForm);
        Assert.Equal(rewritten, facts.PathRewritten);
        string forwardedPath = rewritten
            ? Encoding.ASCII.GetString(facts.NormalizedPath, 0, facts.NormalizedPathLength)
            : head[facts.PathStart..facts.QueryStart];
        Assert.Equal(path, forwardedPath);
        Assert.Equal(query, head[facts.QueryStart..facts.Target.End.Value]);

        // The forwarded target is placed after a copy of the head, or found in it.
        var copy = new byte[facts.HeadLength + facts.ForwardedTargetRoom];
        bytes.AsSpan(0, facts.HeadLength).CopyTo(copy);
        Assert.Equal(path + query, Encoding.ASCII.GetString(copy[facts.PlaceForwardedTarget(copy)]));
    }

    [Fact]
    public void ParsingAPathThatNeedsNoChange_AllocatesNothing()
    {
        byte[] origin = Encoding.ASCII.GetBytes("GET /static/app.min.js?v=3 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n");
        byte[] absolute = Encoding.ASCII.GetBytes("GET http://h.example/static/app.min.js?v=3 HTTP/1.1\r\nHost: h\r\n\r\n");
        byte[] escaped = Encoding.ASCII.GetBytes("GET /a%20b/%C3%A9 HTTP/1.1\r\nHost: h\r\n\r\n");
        byte[] changed = Encoding.ASCII.GetBytes("GET /x/%2e%2e/%61dmin HTTP/1.1\r\nHost: h\r\n\r\n");
        byte[][] unchanged = [origin, absolute, escaped];
        byte[][] changedOnly = [changed];
        var facts = new RequestFacts();
        ParseAll(facts, unchanged);
        ParseAll(facts, changedOnly);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            ParseAll(facts, unchanged);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.False(facts.PathRewritten);

        // A changed path reuses the facts' buffer once it exists.
        before = GC.GetAllocatedBytesForCurrentThread();
        ParseAll(facts, changedOnly);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(facts.PathRewritten);
    }

    private static void ParseAll(RequestFacts facts, byte[][] heads)
    {
        foreach (byte[] head in heads)
        {
            facts.Reset();
            if (HeadParser.ParseRequest(head, facts, out _) != ParseStatus.Complete)
            {
                throw new InvalidOperationException("refused");
            }
        }
    }
}
