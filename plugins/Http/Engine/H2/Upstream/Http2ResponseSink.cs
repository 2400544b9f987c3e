using System.Text;
using PluginProxy.Http.Codec.H2;

namespace PluginProxy.Http.Engine.H2.Upstream;

/// <summary>
/// The HPACK sink of a response head or trailers: checks each field as RFC 9113 §8.2 and §8.3.2 require and keeps them.
/// Malformed: a name with uppercase or invalid characters; a value with NUL, CR or LF or surrounding whitespace; a
/// pseudo-field other than <c>:status</c>, repeated, after a regular field, or in trailers; a connection-specific field
/// (<c>connection</c>, <c>keep-alive</c>, <c>proxy-connection</c>, <c>transfer-encoding</c>, <c>upgrade</c>, <c>te</c>).
/// </summary>
internal struct Http2ResponseSink : IHpackSink
{
    private readonly bool _trailers;
    private bool _regularSeen;

    /// <param name="trailers">True for a trailer section (no pseudo-field allowed).</param>
    public Http2ResponseSink(bool trailers)
    {
        _trailers = trailers;
        Fields = [];
    }

    /// <summary>The regular fields received.</summary>
    public List<KeyValuePair<string, string>> Fields { get; }

    /// <summary>The <c>:status</c> code, or 0 when none came.</summary>
    public int Status { get; private set; }

    /// <summary>What was malformed, or null.</summary>
    public string? Error { get; private set; }

    /// <inheritdoc/>
    public void OnField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
    {
        if (Error is not null)
        {
            return;
        }

        if (!name.IsEmpty && name[0] == ':')
        {
            OnPseudoField(name, value);
            return;
        }

        _regularSeen = true;
        if (!IsValidName(name))
        {
            Error = "a field name is empty, not lowercase or holds an invalid character";
        }
        else if (!IsValidValue(value))
        {
            Error = "a field value holds NUL, CR or LF, or starts or ends with whitespace";
        }
        else if (Http2FieldList.IsConnectionSpecific(name) || name.SequenceEqual("te"u8))
        {
            Error = "a connection-specific field";
        }
        else
        {
            Fields.Add(new(Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value)));
        }
    }

    private void OnPseudoField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (_trailers)
        {
            Error = "a pseudo-field in trailers";
        }
        else if (!name.SequenceEqual(":status"u8))
        {
            Error = "a pseudo-field other than :status in a response";
        }
        else if (_regularSeen)
        {
            Error = ":status after a regular field";
        }
        else if (Status != 0)
        {
            Error = ":status repeated";
        }
        else if (value.Length != 3 || !char.IsAsciiDigit((char)value[0]) || value[0] == '0'
            || !char.IsAsciiDigit((char)value[1]) || !char.IsAsciiDigit((char)value[2]))
        {
            Error = ":status is not three digits (100..999)";
        }
        else
        {
            Status = ((value[0] - '0') * 100) + ((value[1] - '0') * 10) + (value[2] - '0');
        }
    }

    private static bool IsValidName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            return false;
        }

        foreach (byte b in name)
        {
            if (b is >= (byte)'A' and <= (byte)'Z' || b >= 0x80 || !PluginProxy.Abstractions.Http.HttpSyntax.IsTokenChar((char)b))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidValue(ReadOnlySpan<byte> value)
    {
        if (value.IndexOfAny((byte)0, (byte)'\r', (byte)'\n') >= 0)
        {
            return false;
        }

        return value.IsEmpty || (value[0] is not ((byte)' ' or (byte)'\t') && value[^1] is not ((byte)' ' or (byte)'\t'));
    }
}
