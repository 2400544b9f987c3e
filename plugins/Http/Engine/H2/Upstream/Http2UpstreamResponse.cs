namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>A response head (or trailers, with <see cref="Status"/> 0) received from an HTTP/2 server, checked (RFC 9113 §8.3.2).</summary>
/// <param name="Status">The <c>:status</c> code (100..999), or 0 for trailers.</param>
/// <param name="Fields">The regular fields in order, names in lowercase as received.</param>
internal sealed record Http2UpstreamResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    /// <summary>The value of the first field named <paramref name="name"/> (lowercase), or null.</summary>
    public string? Get(string name)
    {
        foreach (KeyValuePair<string, string> field in Fields)
        {
            if (field.Key == name)
            {
                return field.Value;
            }
        }

        return null;
    }
}
