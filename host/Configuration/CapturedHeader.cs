using System.Text;
using System.Text.Json;

namespace PluginProxy.Host.Configuration;

/// <summary>One header captured into the traffic log: its name as configured, and how many bytes of its value are kept.</summary>
internal sealed record CapturedHeader(string Name, int Length)
{
    /// <summary>The longest value kept when the configuration gives no <c>len</c>.</summary>
    public const int DefaultLength = 128;

    /// <summary>The most <c>len</c> may be.</summary>
    public const int MaxLength = 1024;

    /// <summary>The name in ASCII, for looking the header up without allocating.</summary>
    public byte[] AsciiName { get; } = Encoding.ASCII.GetBytes(Name);

    /// <summary>The name as the JSON format keys it: in lower case.</summary>
    public JsonEncodedText JsonKey { get; } = JsonEncodedText.Encode(Name.ToLowerInvariant());
}
