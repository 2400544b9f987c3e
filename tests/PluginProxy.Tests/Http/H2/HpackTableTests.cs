using PluginProxy.Http.Codec.H2;
using static PluginProxy.Tests.Http.H2.H2TestSupport;

namespace PluginProxy.Tests.Http.H2;

/// <summary>The static table of Appendix A, the dynamic table's ring and eviction, and the integer representation's limits.</summary>
public class HpackTableTests
{
    [Theory]
    [InlineData(1, ":authority", "")]
    [InlineData(2, ":method", "GET")]
    [InlineData(7, ":scheme", "https")]
    [InlineData(14, ":status", "500")]
    [InlineData(16, "accept-encoding", "gzip, deflate")]
    [InlineData(32, "cookie", "")]
    [InlineData(55, "set-cookie", "")]
    [InlineData(61, "www-authenticate", "")]
    public void StaticEntries_AreThoseOfAppendixA(int index, string name, string value)
    {
        Assert.Equal(name, System.Text.Encoding.ASCII.GetString(HpackStaticTable.Name(index)));
        Assert.Equal(value, System.Text.Encoding.ASCII.GetString(HpackStaticTable.Value(index)));
    }

    [Fact]
    public void StaticLookups_FindPairsAndNames()
    {
        Assert.Equal(3, HpackStaticTable.Find(Ascii(":method"), Ascii("POST"), out int nameIndex));
        Assert.Equal(2, nameIndex);
        Assert.Equal(0, HpackStaticTable.Find(Ascii(":method"), Ascii("PUT"), out nameIndex));
        Assert.Equal(2, nameIndex);
        Assert.Equal(13, HpackStaticTable.Find(Ascii(":status"), Ascii("404"), out _));
        Assert.Equal(8, HpackStaticTable.FindName(Ascii(":status")));
        Assert.Equal(58, HpackStaticTable.FindName(Ascii("user-agent")));
        Assert.Equal(0, HpackStaticTable.FindName(Ascii("x-custom")));
        Assert.Equal(0, HpackStaticTable.FindName(Ascii("User-Agent")));
        Assert.Equal(0, HpackStaticTable.FindName(Ascii(new string('a', 100))));
        Assert.Throws<ArgumentOutOfRangeException>(() => HpackStaticTable.Name(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => HpackStaticTable.Name(62));
    }

    [Fact]
    public void EveryStaticEntry_IsFoundAtItsOwnIndex()
    {
        for (int i = 1; i <= HpackStaticTable.Count; i++)
        {
            Assert.Equal(i, HpackStaticTable.Find(HpackStaticTable.Name(i), HpackStaticTable.Value(i), out _));
        }
    }

    [Fact]
    public void DynamicTable_CountsSizes_EvictsTheOldest_AndFindsNewestFirst()
    {
        var table = new HpackDynamicTable(100);

        table.Add(Ascii("a"), Ascii("1"));   // 34
        table.Add(Ascii("b"), Ascii("22"));  // 35
        Assert.Equal(69, table.Size);
        table.Add(Ascii("a"), Ascii("333")); // 36: evicts a=1
        Assert.Equal([("a", "333"), ("b", "22")], Entries(table));
        Assert.Equal(71, table.Size);

        Assert.Equal(1, table.Find(Ascii("b"), Ascii("22"), out int nameIndex));
        Assert.Equal(1, nameIndex);
        Assert.Equal(-1, table.Find(Ascii("a"), Ascii("1"), out nameIndex));
        Assert.Equal(0, nameIndex);
    }

    [Fact]
    public void DynamicTable_AnEntryLargerThanTheTable_EmptiesIt()
    {
        var table = new HpackDynamicTable(100);
        table.Add(Ascii("a"), Ascii("1"));

        table.Add(Ascii("big"), Ascii(new string('x', 70)));

        Assert.Equal(0, table.Count);
        Assert.Equal(0, table.Size);
    }

    [Fact]
    public void DynamicTable_ResizeEvicts_AndRefusesMoreThanItsCapacity()
    {
        var table = new HpackDynamicTable(200);
        table.Add(Ascii("a"), Ascii("1"));
        table.Add(Ascii("b"), Ascii("2"));

        table.SetMaxSize(40);

        Assert.Equal([("b", "2")], Entries(table));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.SetMaxSize(201));
        table.SetMaxSize(0);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void DynamicTable_WrapsAroundItsArraysManyTimes_WithoutLosingBytes()
    {
        var table = new HpackDynamicTable(256);
        var expected = new List<(string, string)>();
        var random = new Random(9113);
        for (int i = 0; i < 5000; i++)
        {
            string name = "n" + (i % 7);
            string value = new string((char)('a' + (i % 26)), random.Next(0, 120));
            table.Add(Ascii(name), Ascii(value));
            expected.Insert(0, (name, value));
            int size = 0;
            int keep = 0;
            while (keep < expected.Count && size + expected[keep].Item1.Length + expected[keep].Item2.Length + 32 <= 256)
            {
                size += expected[keep].Item1.Length + expected[keep].Item2.Length + 32;
                keep++;
            }

            expected.RemoveRange(keep, expected.Count - keep);
            Assert.Equal(expected, Entries(table));
            Assert.Equal(size, table.Size);
        }
    }

    [Fact]
    public void DynamicTable_RefusesBytesFromItself()
    {
        var table = new HpackDynamicTable(100);
        table.Add(Ascii("a"), Ascii("1"));

        Assert.Throws<ArgumentException>(() => table.Add(table.Name(0), Ascii("x")));
        Assert.Throws<ArgumentException>(() => table.Add(Ascii("x"), table.Value(0)));
        Assert.Equal(1, table.Count);
    }

    [Theory]
    [InlineData(0, 5, "00")]
    [InlineData(30, 5, "1e")]
    [InlineData(31, 5, "1f00")]
    [InlineData(127, 7, "7f00")]
    [InlineData(128, 7, "7f01")]
    [InlineData(255, 8, "ff00")]
    [InlineData(int.MaxValue, 5, "1fe0ffffff07")]
    public void Integers_AtTheirEdges(int value, int prefixBits, string hex)
    {
        var buffer = new byte[HpackInteger.MaxLength];
        Assert.True(HpackInteger.TryEncode(buffer, value, prefixBits, 0, out int written));
        Assert.Equal(hex, ToHex(buffer.AsSpan(0, written)));

        Assert.Equal(HpackError.None, HpackInteger.Decode(Hex(hex), prefixBits, out int decoded, out int consumed));
        Assert.Equal(value, decoded);
        Assert.Equal(written, consumed);
    }

    [Theory]
    [InlineData("1fe1ffffff07")] // 2^31 with a 5-bit prefix
    [InlineData("1fffffffff0f")]
    [InlineData("1f808080808000")] // six continuation bytes
    public void Integers_BeyondTheLimit_Overflow(string hex)
    {
        Assert.Equal(HpackError.IntegerOverflow, HpackInteger.Decode(Hex(hex), 5, out _, out _));
    }

    [Fact]
    public void Integers_TooShortForTheDestination_AreNotWritten()
    {
        Assert.False(HpackInteger.TryEncode(new byte[2], 1337, 5, 0, out int written));
        Assert.Equal(0, written);
        Assert.Equal(HpackError.Truncated, HpackInteger.Decode(Hex("1f9a"), 5, out _, out _));
    }

    [Theory]
    [InlineData(4096, 1)]
    [InlineData(4096, 2)]
    [InlineData(65536, 3)]
    [InlineData(200, 4)]
    public void DynamicTable_ThatGrowsAsEntriesNeedIt_MatchesASimpleModel(int capacity, int seed)
    {
        var random = new Random(seed);
        var table = new HpackDynamicTable(capacity);
        var model = new List<(string Name, string Value)>();
        for (int step = 0; step < 3000; step++)
        {
            if (random.Next(50) == 0)
            {
                int max = random.Next(capacity + 1);
                table.SetMaxSize(max);
                while (model.Sum(e => e.Name.Length + e.Value.Length + 32) > max)
                {
                    model.RemoveAt(model.Count - 1);
                }
            }

            string name = "n" + new string('x', random.Next(0, random.Next(2) == 0 ? 8 : 300));
            string value = new string((char)('a' + random.Next(26)), random.Next(0, random.Next(4) == 0 ? 2000 : 40));
            table.Add(System.Text.Encoding.ASCII.GetBytes(name), System.Text.Encoding.ASCII.GetBytes(value));
            if (name.Length + value.Length + 32 > table.MaxSize)
            {
                model.Clear();
            }
            else
            {
                model.Insert(0, (name, value));
                while (model.Sum(e => e.Name.Length + e.Value.Length + 32) > table.MaxSize)
                {
                    model.RemoveAt(model.Count - 1);
                }
            }

            Assert.Equal(model.Count, table.Count);
            for (int i = 0; i < model.Count; i++)
            {
                Assert.Equal(model[i].Name, System.Text.Encoding.ASCII.GetString(table.Name(i)));
                Assert.Equal(model[i].Value, System.Text.Encoding.ASCII.GetString(table.Value(i)));
            }
        }
    }
}
