using System.Text;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Engine.H2;

/// <summary>
/// The fields of a head we send (a response head or trailers), ready for HPACK: names in lowercase, pseudo-fields
/// first, and no connection-specific field (RFC 9113 §8.2.2: <c>connection</c>, <c>keep-alive</c>,
/// <c>proxy-connection</c>, <c>transfer-encoding</c>, <c>upgrade</c>, and the fields <c>Connection</c> names). Built
/// outside the connection's write lock; the writer encodes it under the lock, since HPACK state follows the order of blocks.
/// </summary>
internal sealed class Http2FieldList
{
    private readonly List<Field> _fields = [];
    private byte[] _bytes = new byte[256];
    private int _length;

    private readonly record struct Field(int NameStart, int NameLength, int ValueStart, int ValueLength, bool NeverIndex);

    /// <summary>Empties the list for another head (its memory is kept).</summary>
    public void Clear()
    {
        _fields.Clear();
        _length = 0;
    }

    /// <summary>The number of fields.</summary>
    public int Count => _fields.Count;

    /// <summary>The name of field <paramref name="index"/> (lowercase).</summary>
    public ReadOnlySpan<byte> Name(int index) => _bytes.AsSpan(_fields[index].NameStart, _fields[index].NameLength);

    /// <summary>The value of field <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Value(int index) => _bytes.AsSpan(_fields[index].ValueStart, _fields[index].ValueLength);

    /// <summary>True when field <paramref name="index"/> must be sent as "never indexed".</summary>
    public bool NeverIndex(int index) => _fields[index].NeverIndex;

    /// <summary>True for the fields HTTP/2 forbids (RFC 9113 §8.2.2); <paramref name="name"/> in lowercase.</summary>
    public static bool IsConnectionSpecific(ReadOnlySpan<byte> name)
        => name.SequenceEqual("connection"u8) || name.SequenceEqual("keep-alive"u8) || name.SequenceEqual("proxy-connection"u8)
            || name.SequenceEqual("transfer-encoding"u8) || name.SequenceEqual("upgrade"u8);

    /// <summary>Adds <c>:status</c> (100..999, three digits); call it first.</summary>
    public void AddStatus(int status)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 999);
        Span<byte> digits = [(byte)('0' + (status / 100)), (byte)('0' + (status / 10 % 10)), (byte)('0' + (status % 10))];
        AddRaw(":status"u8, digits, false);
    }

    /// <summary>Adds a field (the name is lowercased); a connection-specific or pseudo name is left out.</summary>
    /// <exception cref="ArgumentException">The name is not a token or the value holds CR, LF or NUL.</exception>
    public void Add(string name, string value)
    {
        if (name.Length == 0 || !name.All(HttpSyntax.IsTokenChar))
        {
            throw new ArgumentException($"\"{name}\" is not a valid field name", nameof(name));
        }

        if (value.Any(c => c is '\r' or '\n' or '\0' || c > 0xFF))
        {
            throw new ArgumentException($"the value of field \"{name}\" holds CR, LF, NUL or a character beyond Latin-1", nameof(value));
        }

        int nameStart = Append(name);
        int valueStart = Append(value);
        Commit(nameStart, name.Length, valueStart, value.Length);
    }

    /// <summary>Adds a field from raw bytes (the name is lowercased); a connection-specific or pseudo name is left out.</summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndex = false)
    {
        int nameStart = Append(name);
        int valueStart = Append(value);
        Commit(nameStart, name.Length, valueStart, value.Length, neverIndex);
    }

    /// <summary>
    /// Adds the present fields of <paramref name="headers"/>, leaving out the connection-specific ones and those the
    /// <c>Connection</c> field names (the hop-by-hop fields of an HTTP/1.1 head).
    /// </summary>
    public void AddFrom(HttpHeaders headers)
    {
        List<string>? hopByHop = HopByHopNames(headers);
        for (int i = 0; i < headers.EntryCount; i++)
        {
            if (headers.IsRemoved(i))
            {
                continue;
            }

            string? listed = null;
            if (hopByHop is not null)
            {
                string name = headers.NameAt(i);
                listed = hopByHop.Find(token => string.Equals(token, name, StringComparison.OrdinalIgnoreCase));
            }

            if (listed is not null)
            {
                continue;
            }

            if (headers.IsReceived(i))
            {
                Add(headers.RawName(i), headers.RawValue(i));
            }
            else
            {
                Add(headers.NameAt(i), headers.ValueAt(i));
            }
        }
    }

    /// <summary>
    /// The field names the <c>Connection</c> fields list, other than <c>keep-alive</c> and <c>close</c> (which name no
    /// field that is not connection-specific already), or null: read from the received bytes, so the usual
    /// <c>Connection: keep-alive</c> of a server costs nothing.
    /// </summary>
    private static List<string>? HopByHopNames(HttpHeaders headers)
    {
        List<string>? names = null;
        for (int i = headers.IndexOf("Connection"u8); i >= 0; i = headers.IndexOf("Connection"u8, i + 1))
        {
            if (!headers.IsReceived(i))
            {
                foreach (string token in headers.ValueAt(i).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    AddToken(ref names, Encoding.Latin1.GetBytes(token));
                }

                continue;
            }

            ReadOnlySpan<byte> value = headers.RawValue(i);
            foreach (Range part in value.Split((byte)','))
            {
                AddToken(ref names, HttpChars.TrimOws(value[part]));
            }
        }

        return names;
    }

    private static void AddToken(ref List<string>? names, ReadOnlySpan<byte> token)
    {
        if (!token.IsEmpty && !Ascii.EqualsIgnoreCase(token, "keep-alive"u8) && !Ascii.EqualsIgnoreCase(token, "close"u8))
        {
            (names ??= []).Add(Encoding.Latin1.GetString(token));
        }
    }

    private void Commit(int nameStart, int nameLength, int valueStart, int valueLength, bool neverIndex = false)
    {
        Span<byte> name = _bytes.AsSpan(nameStart, nameLength);
        Ascii.ToLowerInPlace(name, out _);
        if (name.IsEmpty || name[0] == ':' || IsConnectionSpecific(name))
        {
            _length = nameStart;
            return;
        }

        _fields.Add(new Field(nameStart, nameLength, valueStart, valueLength, neverIndex));
    }

    private void AddRaw(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndex)
    {
        int nameStart = Append(name);
        int valueStart = Append(value);
        _fields.Add(new Field(nameStart, name.Length, valueStart, value.Length, neverIndex));
    }

    private int Append(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        int start = _length;
        bytes.CopyTo(_bytes.AsSpan(_length));
        _length += bytes.Length;
        return start;
    }

    private int Append(string text)
    {
        Reserve(text.Length);
        int start = _length;
        _length += Encoding.Latin1.GetBytes(text, _bytes.AsSpan(_length));
        return start;
    }

    private void Reserve(int more)
    {
        if (_length + more > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + more));
        }
    }
}
