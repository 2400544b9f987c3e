using System.Collections;
using System.Text;

namespace PluginProxy.Abstractions.Http;

/// <summary>
/// The header fields of one HTTP message, in order, with case-insensitive names. Fields received on the wire are kept
/// as positions in the received head, so reading and forwarding them allocates nothing; a string is made only when an
/// analyzer asks for a name or value. Changes (set, add, remove) are recorded and applied when the head is forwarded.
/// </summary>
public sealed class HttpHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private Entry[] _entries = new Entry[24];
    private byte[] _source = [];
    private int _count;

    private struct Entry
    {
        public int NameStart;
        public int NameLength;
        public int ValueStart;
        public int ValueLength;
        public string? Name;
        public string? Value;
        public bool Removed;
    }

    /// <summary>The number of entries, removed ones included (see <see cref="IsRemoved"/>); for supervisors walking the raw fields.</summary>
    public int EntryCount => _count;

    /// <summary>True once an analyzer added, set or removed a field since the head was received.</summary>
    public bool IsModified { get; private set; }

    /// <summary>The number of fields present (not removed).</summary>
    public int Count
    {
        get
        {
            int n = 0;
            for (int i = 0; i < _count; i++)
            {
                if (!_entries[i].Removed)
                {
                    n++;
                }
            }

            return n;
        }
    }

    /// <summary>For supervisors: forgets every field and reads new ones from <paramref name="source"/>.</summary>
    public void Reset(byte[] source)
    {
        Array.Clear(_entries, 0, _count);
        _count = 0;
        _source = source;
        IsModified = false;
    }

    /// <summary>For supervisors: appends a field received on the wire, by its position in the source given to <see cref="Reset"/>.</summary>
    public void AddReceived(int nameStart, int nameLength, int valueStart, int valueLength)
    {
        ref Entry entry = ref Append();
        entry.NameStart = nameStart;
        entry.NameLength = nameLength;
        entry.ValueStart = valueStart;
        entry.ValueLength = valueLength;
    }

    private ref Entry Append()
    {
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _entries.Length * 2);
        }

        return ref _entries[_count++];
    }

    /// <summary>True when entry <paramref name="index"/> was removed by an analyzer.</summary>
    public bool IsRemoved(int index) => _entries[index].Removed;

    /// <summary>True when entry <paramref name="index"/> was received on the wire (its raw bytes are available).</summary>
    public bool IsReceived(int index) => _entries[index].Name is null;

    /// <summary>The name of a received entry, as received.</summary>
    public ReadOnlySpan<byte> RawName(int index)
    {
        ref Entry e = ref _entries[index];
        return _source.AsSpan(e.NameStart, e.NameLength);
    }

    /// <summary>The value of a received entry, as received, without surrounding whitespace.</summary>
    public ReadOnlySpan<byte> RawValue(int index)
    {
        ref Entry e = ref _entries[index];
        return _source.AsSpan(e.ValueStart, e.ValueLength);
    }

    /// <summary>The name of entry <paramref name="index"/> (made into a string on first use).</summary>
    public string NameAt(int index)
    {
        ref Entry e = ref _entries[index];
        return e.Name ??= KnownHeaderNames.Get(_source.AsSpan(e.NameStart, e.NameLength));
    }

    /// <summary>The value of entry <paramref name="index"/> (made into a string on first use).</summary>
    public string ValueAt(int index)
    {
        ref Entry e = ref _entries[index];
        return e.Value ??= Encoding.Latin1.GetString(_source, e.ValueStart, e.ValueLength);
    }

    /// <summary>The index of the first present field named <paramref name="asciiName"/> at or after <paramref name="start"/>, or -1. Allocates nothing.</summary>
    public int IndexOf(ReadOnlySpan<byte> asciiName, int start = 0)
    {
        for (int i = start; i < _count; i++)
        {
            ref Entry e = ref _entries[i];
            if (e.Removed)
            {
                continue;
            }

            bool match = e.Name is null
                ? Ascii.EqualsIgnoreCase(_source.AsSpan(e.NameStart, e.NameLength), asciiName)
                : Ascii.EqualsIgnoreCase(asciiName, e.Name);
            if (match)
            {
                return i;
            }
        }

        return -1;
    }

    private int IndexOf(string name, int start = 0)
    {
        for (int i = start; i < _count; i++)
        {
            ref Entry e = ref _entries[i];
            if (!e.Removed && (e.Name is null
                    ? Ascii.EqualsIgnoreCase(_source.AsSpan(e.NameStart, e.NameLength), name)
                    : string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The value of the first field named <paramref name="name"/>, or null. Setting replaces every field of that name (null removes them).</summary>
    public string? this[string name]
    {
        get => Get(name);
        set
        {
            if (value is null)
            {
                Remove(name);
            }
            else
            {
                Set(name, value);
            }
        }
    }

    /// <summary>The value of the first field named <paramref name="name"/>, or null.</summary>
    public string? Get(string name) => IndexOf(name) is int i and >= 0 ? ValueAt(i) : null;

    /// <summary>The values of every field named <paramref name="name"/>, in order.</summary>
    public IReadOnlyList<string> GetValues(string name)
    {
        var values = new List<string>();
        for (int i = IndexOf(name); i >= 0; i = IndexOf(name, i + 1))
        {
            values.Add(ValueAt(i));
        }

        return values;
    }

    /// <summary>True when a field named <paramref name="name"/> is present.</summary>
    public bool Contains(string name) => IndexOf(name) >= 0;

    /// <summary>Replaces every field named <paramref name="name"/> with one field of value <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">The name is not a token or the value holds CR, LF or NUL (header injection).</exception>
    public void Set(string name, string value)
    {
        Remove(name);
        Add(name, value);
    }

    /// <summary>Appends a field, keeping any existing ones of the same name.</summary>
    /// <exception cref="ArgumentException">The name is not a token or the value holds CR, LF or NUL (header injection).</exception>
    public void Add(string name, string value)
    {
        Validate(name, value);
        ref Entry entry = ref Append();
        entry.Name = name;
        entry.Value = value;
        IsModified = true;
    }

    /// <summary>Removes every field named <paramref name="name"/>; returns how many were removed.</summary>
    public int Remove(string name)
    {
        int removed = 0;
        for (int i = IndexOf(name); i >= 0; i = IndexOf(name, i + 1))
        {
            _entries[i].Removed = true;
            removed++;
        }

        if (removed > 0)
        {
            IsModified = true;
        }

        return removed;
    }

    /// <summary>For supervisors: removes entry <paramref name="index"/>.</summary>
    public void RemoveAt(int index)
    {
        _entries[index].Removed = true;
        IsModified = true;
    }

    private static void Validate(string name, string value)
    {
        if (name.Length == 0 || !name.All(HttpSyntax.IsTokenChar))
        {
            throw new ArgumentException($"\"{name}\" is not a valid header name: use letters, digits and !#$%&'*+-.^_`|~", nameof(name));
        }

        foreach (char c in value)
        {
            if (c is '\r' or '\n' or '\0' || c > 0xFF || (c < 0x20 && c != '\t') || c == 0x7F)
            {
                throw new ArgumentException($"the value of header \"{name}\" holds a control character; CR, LF and NUL are never allowed", nameof(value));
            }
        }
    }

    /// <summary>The present fields as name/value pairs, in order.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (int i = 0; i < _count; i++)
        {
            if (!_entries[i].Removed)
            {
                yield return new KeyValuePair<string, string>(NameAt(i), ValueAt(i));
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
