using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Tables;

namespace PluginProxy.Tests.Rules;

/// <summary>Stick tables of a test, keyed by the client's address, whose counters the test sets.</summary>
internal sealed class FakeStickTables(params FakeStickTable[] tables) : IStickTables
{
    public IStickTable? Find(string name) => tables.FirstOrDefault(t => t.Name == name);

    public IReadOnlyList<IStickTable> All => tables;
}

/// <summary>A stick table keyed by source address; entries are the ones the test added.</summary>
internal sealed class FakeStickTable(string name) : IStickTable
{
    private readonly Dictionary<string, FakeStickEntry> _entries = new(StringComparer.Ordinal);

    public string Name => name;

    public string KeySpec => "source";

    public int Size => 100;

    public TimeSpan Expire => TimeSpan.FromMinutes(1);

    public TimeSpan RatePeriod => TimeSpan.FromSeconds(10);

    public int Count => _entries.Count;

    /// <summary>How many times <see cref="Track"/> was called (a condition must not create entries).</summary>
    public int Tracked { get; private set; }

    public FakeStickEntry Add(string key)
    {
        var entry = new FakeStickEntry(key);
        _entries[key] = entry;
        return entry;
    }

    public string? KeyOf(ProxyStream stream) => (stream.Session.Connection.ClientEndPoint as System.Net.IPEndPoint)?.Address.ToString();

    public IStickEntry Track(string key)
    {
        Tracked++;
        return _entries.TryGetValue(key, out FakeStickEntry? entry) ? entry : Add(key);
    }

    public IStickEntry? Find(string key) => _entries.GetValueOrDefault(key);
}

/// <summary>An entry whose counters the test sets.</summary>
internal sealed class FakeStickEntry(string key) : IStickEntry
{
    public string Key => key;

    public double RequestRate { get; set; }

    public long Requests { get; set; }

    public int Connections { get; set; }

    public double ErrorRate { get; set; }

    public long Errors { get; set; }

    public string? Server { get; set; }

    public void CountRequest() => Requests++;

    public void CountError() => Errors++;

    public void AddConnections(int delta) => Connections += delta;
}
