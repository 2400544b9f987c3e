namespace PluginProxy.Abstractions.Http;

/// <summary>The HTTP/1.x version of a message.</summary>
public enum Http1Version
{
    /// <summary>HTTP/1.0: connections close after each exchange unless both sides ask to keep them.</summary>
    Http10 = 10,

    /// <summary>HTTP/1.1: connections persist unless a side says <c>Connection: close</c>.</summary>
    Http11 = 11,
}
