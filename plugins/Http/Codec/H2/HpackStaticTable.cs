using System.Text;

namespace PluginProxy.Http.Codec.H2;

/// <summary>
/// The static table of RFC 7541 Appendix A: 61 fixed entries, indexed from 1. Names are lowercase as on the wire.
/// Lookups compare bytes; they scan the few entries whose name has the same length.
/// </summary>
internal static class HpackStaticTable
{
    /// <summary>The number of entries; dynamic table indices start after it.</summary>
    public const int Count = 61;

    private static readonly byte[][] Names;
    private static readonly byte[][] Values;

    // For each name length, the indices of the entries with a name that long, in increasing order.
    private static readonly int[][] ByNameLength;

    static HpackStaticTable()
    {
        (string Name, string Value)[] entries =
        [
            (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"), (":path", "/index.html"),
            (":scheme", "http"), (":scheme", "https"), (":status", "200"), (":status", "204"), (":status", "206"),
            (":status", "304"), (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
            ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""), ("accept", ""),
            ("access-control-allow-origin", ""), ("age", ""), ("allow", ""), ("authorization", ""), ("cache-control", ""),
            ("content-disposition", ""), ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
            ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""), ("date", ""),
            ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""), ("if-match", ""),
            ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""), ("if-unmodified-since", ""),
            ("last-modified", ""), ("link", ""), ("location", ""), ("max-forwards", ""), ("proxy-authenticate", ""),
            ("proxy-authorization", ""), ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""),
            ("server", ""), ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
            ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
        ];

        Names = new byte[Count + 1][];
        Values = new byte[Count + 1][];
        Names[0] = [];
        Values[0] = [];
        int longest = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            Names[i + 1] = Encoding.ASCII.GetBytes(entries[i].Name);
            Values[i + 1] = Encoding.ASCII.GetBytes(entries[i].Value);
            longest = Math.Max(longest, entries[i].Name.Length);
        }

        ByNameLength = new int[longest + 1][];
        for (int length = 0; length <= longest; length++)
        {
            ByNameLength[length] = Enumerable.Range(1, Count).Where(i => Names[i].Length == length).ToArray();
        }
    }

    /// <summary>The name of entry <paramref name="index"/> (1 to 61).</summary>
    public static ReadOnlySpan<byte> Name(int index) => Names[CheckIndex(index)];

    /// <summary>The value of entry <paramref name="index"/> (1 to 61; empty for most).</summary>
    public static ReadOnlySpan<byte> Value(int index) => Values[CheckIndex(index)];

    /// <summary>The lowest index whose name is <paramref name="name"/>, or 0.</summary>
    public static int FindName(ReadOnlySpan<byte> name)
    {
        Find(name, default, out int nameIndex, matchValue: false);
        return nameIndex;
    }

    /// <summary>The index whose name and value match, or 0; <paramref name="nameIndex"/> is the lowest index with that name, or 0.</summary>
    public static int Find(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out int nameIndex)
        => Find(name, value, out nameIndex, matchValue: true);

    private static int Find(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out int nameIndex, bool matchValue)
    {
        nameIndex = 0;
        if (name.Length >= ByNameLength.Length)
        {
            return 0;
        }

        foreach (int i in ByNameLength[name.Length])
        {
            if (!name.SequenceEqual(Names[i]))
            {
                continue;
            }

            if (nameIndex == 0)
            {
                nameIndex = i;
                if (!matchValue)
                {
                    return 0;
                }
            }

            if (value.SequenceEqual(Values[i]))
            {
                return i;
            }
        }

        return 0;
    }

    private static int CheckIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, Count);
        return index;
    }
}
