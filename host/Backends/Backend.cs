using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>
/// A backend's servers and the balancing algorithm that picks among them. Picking allocates nothing. The runtime API may
/// change the servers and their weights while streams pick: each change publishes a new <see cref="Rotation"/>.
/// </summary>
internal sealed partial class Backend : IBackend
{
    // The servers and, for round robin, a precomputed, smoothly interleaved sequence of their indexes (each server appears
    // weight times), so a pick is one atomic increment instead of a lock. Replaced whole when the runtime API adds or
    // removes a server or sets a weight.
    private volatile Rotation _rotation;
    private readonly Lock _changing = new();
    private int _cursor = -1;
    private int _backupCursor = -1;

    // True while no normal server can take a stream and a backup server exists: only backups are eligible then.
    private volatile bool _useBackups;

    /// <param name="carryOver">During a reload, the running servers this backend may keep (see <see cref="ServerCarryOver"/>).</param>
    public Backend(BackendConfig config, ServerCarryOver? carryOver = null)
    {
        Name = config.Name;
        Balance = config.Balance;
        Timeouts = config.Timeouts;
        Retries = config.Retries;
        HttpReuse = config.HttpReuse;
        HashKeySource = config.HashKeySource;
        HashKeyName = config.HashKeyName;
        PersistCookie = config.Cookie;
        Check = config.Check;
        ResolveInterval = config.ResolveInterval;
        RetryPolicy = config.RetryPolicy;
        Passive = config.Passive;
        Queue = carryOver?.TakeQueue(Name) ?? new BackendQueue();
        Server[] servers = config.Servers.Select(s => carryOver?.Take(this, s) ?? new Server(s, this)).ToArray();
        // The configured weights and roles: a kept server takes them in this backend only when the reload commits (Rebalance then).
        _rotation = Rotation.Build(servers, config.Servers.Select(s => s.Weight * Server.WeightScale).ToArray(),
            config.Servers.Select(s => s.Backup).ToArray(), config.Servers.Any(s => s.MaxConn > 0), Rotation.NoStep);
        _useBackups = NeedsBackups(servers, config.Servers.Select(s => s.Backup).ToArray());
    }

    /// <summary>The clock of slow starts and passive health checks (a test's own, to move time; the system's otherwise).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    public string Name { get; }

    public BalanceAlgorithm Balance { get; }

    public IReadOnlyList<IServer> Servers => _rotation.Servers;

    internal IReadOnlyList<Server> ServerStates => _rotation.Servers;

    public ProxyTimeouts Timeouts { get; }

    public int Retries { get; }

    public HttpReuse HttpReuse { get; }

    public HealthCheckConfig? Check { get; }

    /// <summary><c>resolve_interval</c>: how often the names of its servers named by host name are resolved again.</summary>
    public TimeSpan ResolveInterval { get; }
    public RetryPolicy RetryPolicy { get; }

    /// <summary><c>[backend.passive]</c>, or null when passive health checks are off.</summary>
    public PassiveHealthConfig? Passive { get; }

    /// <summary>Where ejections are logged.</summary>
    public ILogger Log { get; init; } = NullLogger.Instance;


    /// <summary>How many retries run at once and how many the budget refused.</summary>
    public RetryBudget RetryBudget { get; } = new();

    public bool TryBeginRetry()
    {
        int inFlight = 0;
        foreach (Server server in _rotation.Servers)
        {
            inFlight += server.ActiveStreams;
        }

        return RetryBudget.TryBegin(RetryPolicy.BudgetFor(inFlight));
    }

    public void EndRetry() => RetryBudget.End();

    public void ReportFailure(IServer server, string reason) => (server as Server)?.Passive.Failed(reason);
    public HashKeySource HashKeySource { get; }

    public string? HashKeyName { get; }

    public string? PersistCookie { get; }

    /// <summary>The table named by <c>stick_table</c> (set by the catalog that builds the backend), or null.</summary>
    public Abstractions.Tables.IStickTable? StickTable { get; init; }

    /// <summary>The server named <paramref name="name"/>, or null.</summary>
    public Server? Find(string name) => Array.Find(_rotation.Servers, s => s.Name == name);

    /// <summary>
    /// Rebuilds the round-robin order from the weights in use (after a weight changed at run time, a server came back
    /// with a slow start, or a reload committed), and serves the queue from the servers as they are now.
    /// </summary>
    public void Rebalance()
    {
        lock (_changing)
        {
            _rotation = Rotation.Of(_rotation.Servers, Clock);
        }

        ServersChanged();
    }

    /// <summary>Adds <paramref name="server"/> (the runtime API); false when the backend has a server of that name.</summary>
    public bool TryAdd(Server server)
    {
        lock (_changing)
        {
            Server[] servers = _rotation.Servers;
            if (Array.Exists(servers, s => s.Name == server.Name))
            {
                return false;
            }

            _rotation = Rotation.Of([.. servers, server], Clock);
        }

        ServersChanged();
        return true;
    }

    /// <summary>Removes <paramref name="server"/> (the runtime API): no stream picks it any more; the streams it carries finish.</summary>
    public bool Remove(Server server)
    {
        lock (_changing)
        {
            Server[] servers = _rotation.Servers;
            if (Array.IndexOf(servers, server) < 0)
            {
                return false;
            }

            _rotation = Rotation.Of(servers.Where(s => s != server).ToArray(), Clock);
        }

        ServersChanged(removed: server);
        return true;
    }

    public IServer? PickServer(in ServerSelection selection, IReadOnlyCollection<IServer>? exclude = null)
    {
        // Persistence (a cookie or a stick-table entry named the server) wins while that server can take the stream.
        if (selection.Preferred is Server preferred && ReferenceEquals(preferred.Backend, this) && Eligible(preferred, exclude)
            && Array.IndexOf(_rotation.Servers, preferred) >= 0)
        {
            return preferred;
        }

        switch (Balance)
        {
            case BalanceAlgorithm.Hash:
                return PickConsistent(selection, exclude);
            case BalanceAlgorithm.LeastConn:
                return PickLeastConnections(exclude);
            case BalanceAlgorithm.Source when selection.Client is IPEndPoint client:
                return PickByHash(Hashes.OfAddress(client.Address), exclude);
            case BalanceAlgorithm.Uri when selection.HashKey is { } key:
                return PickByHash(Hashes.OfString(key), exclude);
            case BalanceAlgorithm.Random:
                return PickByHash((uint)Random.Shared.Next(), exclude);
            default:
                return PickRoundRobin(exclude);
        }
    }

    /// <summary>
    /// <c>hash</c>: the key's place on the rotation's ring (<see cref="HashRing"/>); a stream without the key (no such
    /// header or cookie, no address) goes round robin, as HAProxy does.
    /// </summary>
    private Server? PickConsistent(in ServerSelection selection, IReadOnlyCollection<IServer>? exclude)
    {
        uint hash;
        if (HashKeySource == HashKeySource.Source)
        {
            if (selection.Client is not IPEndPoint client)
            {
                return PickRoundRobin(exclude);
            }

            hash = Hashes.OfAddress(client.Address);
        }
        else if (selection.HashKey is { } key)
        {
            hash = Hashes.OfString(key);
        }
        else
        {
            return PickRoundRobin(exclude);
        }

        Rotation rotation = _rotation;
        return rotation.Ring.Pick(hash, rotation.Servers, exclude, _useBackups);
    }

    /// <summary>Up, ready, weighted, not excluded, and a backup only while no normal server is eligible.</summary>
    private bool Eligible(Server server, IReadOnlyCollection<IServer>? exclude) =>
        server.IsEligible && server.IsBackup == _useBackups && (exclude is null || !exclude.Contains(server));

    private Server? PickRoundRobin(IReadOnlyCollection<IServer>? exclude)
    {
        Rotation rotation = _rotation;
        if (rotation.StepAt != Rotation.NoStep)
        {
            rotation = StepRamp(rotation);
        }

        bool backups = _useBackups;
        int[] order = backups ? rotation.BackupOrder : rotation.Order;
        for (int step = 0; step < order.Length; step++)
        {
            uint position = (uint)Interlocked.Increment(ref backups ? ref _backupCursor : ref _cursor);
            Server candidate = rotation.Servers[order[position % (uint)order.Length]];
            if (Eligible(candidate, exclude))
            {
                return candidate;
            }
        }

        return null;
    }

    private Server? PickLeastConnections(IReadOnlyCollection<IServer>? exclude)
    {
        Server[] servers = _rotation.Servers;
        if (servers.Length == 0)
        {
            return null;
        }

        // Start the scan at a rotating offset so that ties are spread instead of always going to the first server.
        int start = (int)((uint)Interlocked.Increment(ref _cursor) % (uint)servers.Length);
        Server? best = null;
        for (int i = 0; i < servers.Length; i++)
        {
            Server candidate = servers[(start + i) % servers.Length];
            if (!Eligible(candidate, exclude))
            {
                continue;
            }

            // Streams in flight (not idle pooled connections) per weight (ramped in a slow start), compared without division:
            // a.streams * b.weight < b.streams * a.weight.
            if (best is null || (long)candidate.ActiveStreams * best.ScaledWeight < (long)best.ActiveStreams * candidate.ScaledWeight)
            {
                best = candidate;
            }
        }

        return best;
    }

    /// <summary>Maps a hash onto the eligible servers in proportion to their weights.</summary>
    private Server? PickByHash(uint hash, IReadOnlyCollection<IServer>? exclude)
    {
        Server[] servers = _rotation.Servers;
        long total = 0;
        foreach (Server server in servers)
        {
            if (Eligible(server, exclude))
            {
                total += server.Weight;
            }
        }

        if (total == 0)
        {
            return null;
        }

        long point = hash % total;
        foreach (Server server in servers)
        {
            if (!Eligible(server, exclude))
            {
                continue;
            }

            point -= server.Weight;
            if (point < 0)
            {
                return server;
            }
        }

        return null;
    }

    /// <summary>
    /// One published set of servers with its round-robin orders (indexes into <see cref="Servers"/>): one for the normal
    /// servers, one for the backups, from the weights in use at <see cref="Server.WeightScale"/> (ramped ones less).
    /// </summary>
    /// <param name="StepAt">When a ramping weight has grown enough to rebuild the orders (a clock timestamp), or <see cref="NoStep"/>.</param>
    /// <param name="Counted">True when some server has a <c>maxconn</c>: picks then go through the queue's lock.</param>
    private sealed record Rotation(Server[] Servers, int[] Order, int[] BackupOrder, long StepAt, bool Counted)
    {
        public const long NoStep = long.MaxValue;

        private HashRing? _ring;

        /// <summary>The consistent-hash ring of these servers with their configured weights in use, built on first use (hash backends only).</summary>
        public HashRing Ring => _ring ??= HashRing.Build(Servers);

        /// <summary>The servers with the orders their weights, roles and ramps in use give.</summary>
        public static Rotation Of(Server[] servers, TimeProvider clock)
        {
            long stepAt = NoStep;
            foreach (Server server in servers)
            {
                if (server.RampEnd is not null)
                {
                    // Rebuild at each twentieth of the shortest ramp (at least every 50ms): the weight grows by that much.
                    long step = Math.Max((long)(server.SlowStart.TotalSeconds * clock.TimestampFrequency / Server.WeightScale), clock.TimestampFrequency / 20);
                    stepAt = Math.Min(stepAt, clock.GetTimestamp() + step);
                }
            }

            return Build(servers, servers.Select(s => s.ScaledWeight).ToArray(), servers.Select(s => s.IsBackup).ToArray(), servers.Any(s => s.MaxConn > 0), stepAt);
        }

        public static Rotation Build(Server[] servers, int[] scaledWeights, bool[] backup, bool counted, long stepAt) =>
            new(servers, Group(scaledWeights, backup, false), Group(scaledWeights, backup, true), stepAt, counted);

        /// <summary>The smooth order of the servers whose role is <paramref name="backups"/>, their weights reduced by their common divisor.</summary>
        private static int[] Group(int[] weights, bool[] backup, bool backups)
        {
            int[] members = Enumerable.Range(0, weights.Length).Where(i => backup[i] == backups).ToArray();
            int divisor = members.Aggregate(0, (d, i) => Gcd(d, weights[i]));
            if (divisor == 0)
            {
                return [];
            }

            int[] sequence = SmoothWeightedSequence(members.Select(i => weights[i] / divisor).ToArray());
            for (int n = 0; n < sequence.Length; n++)
            {
                sequence[n] = members[sequence[n]];
            }

            return sequence;
        }

        private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
    }

    /// <summary>
    /// The order of nginx-style smooth weighted round robin, precomputed: weights 5,1,1 give a,a,b,a,c,a,a
    /// rather than a,a,a,a,a,b,c.
    /// </summary>
    internal static int[] SmoothWeightedSequence(int[] weights)
    {
        int total = weights.Sum();
        var sequence = new int[total];
        var current = new int[weights.Length];
        for (int n = 0; n < total; n++)
        {
            int best = 0;
            for (int i = 0; i < weights.Length; i++)
            {
                current[i] += weights[i];
                if (current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= total;
            sequence[n] = best;
        }

        return sequence;
    }
}
