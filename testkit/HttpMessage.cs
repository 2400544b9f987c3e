using System.Text;

namespace PluginProxy.TestKit;

/// <summary>An HTTP/1.x message as one end of an in-memory connection received it: the start line, the header fields, the body (de-chunked).</summary>
public class HttpMessage
{
    internal HttpMessage(string startLine, IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body, byte[] raw)
    {
        StartLine = startLine;
        HeaderList = headers;
        Body = body;
        Raw = raw;
        Headers = new HeaderView(headers);
    }

    /// <summary>The first line, without its CRLF.</summary>
    public string StartLine { get; }

    /// <summary>The header fields in order, as received.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> HeaderList { get; }

    /// <summary>The header fields by name (case-insensitive); a repeated field's values joined with ", "; null when absent.</summary>
    public HeaderView Headers { get; }

    /// <summary>The body (chunked bodies decoded).</summary>
    public byte[] Body { get; }

    /// <summary>The body as UTF-8 text.</summary>
    public string BodyText => Encoding.UTF8.GetString(Body);

    /// <summary>The message's bytes as received.</summary>
    public byte[] Raw { get; }

    /// <inheritdoc/>
    public override string ToString() => Encoding.Latin1.GetString(Raw);
}

/// <summary>The header fields of a received message by name (case-insensitive).</summary>
public sealed class HeaderView(IReadOnlyList<KeyValuePair<string, string>> fields)
{
    /// <summary>The values of <paramref name="name"/> joined with ", ", or null when the message has none.</summary>
    public string? this[string name]
    {
        get
        {
            string[] values = GetValues(name);
            return values.Length == 0 ? null : string.Join(", ", values);
        }
    }

    /// <summary>Every value of <paramref name="name"/>, in order.</summary>
    public string[] GetValues(string name) =>
        fields.Where(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value).ToArray();

    /// <summary>True when the message has a field named <paramref name="name"/>.</summary>
    public bool Contains(string name) => GetValues(name).Length > 0;
}

/// <summary>A response the client received.</summary>
public sealed class HttpTestResponse : HttpMessage
{
    internal HttpTestResponse(HttpMessage message)
        : base(message.StartLine, message.HeaderList, message.Body, message.Raw)
    {
        string[] parts = StartLine.Split(' ', 3);
        Version = parts[0];
        Status = parts.Length > 1 && int.TryParse(parts[1], out int status) ? status : 0;
        Reason = parts.Length > 2 ? parts[2] : "";
    }

    /// <summary>The status code.</summary>
    public int Status { get; }

    /// <summary>The reason phrase.</summary>
    public string Reason { get; }

    /// <summary>The version on the status line, <c>HTTP/1.1</c> say.</summary>
    public string Version { get; }
}

/// <summary>A request the scripted server received.</summary>
public sealed class ServerRequest : HttpMessage
{
    internal ServerRequest(HttpMessage message)
        : base(message.StartLine, message.HeaderList, message.Body, message.Raw)
    {
        string[] parts = StartLine.Split(' ', 3);
        Method = parts[0];
        Target = parts.Length > 1 ? parts[1] : "";
    }

    /// <summary>The method.</summary>
    public string Method { get; }

    /// <summary>The request target, <c>/path?query</c> say.</summary>
    public string Target { get; }
}
