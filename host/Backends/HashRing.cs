using PluginProxy.Abstractions;

namespace PluginProxy.Host.Backends;

/// <summary>
/// The consistent-hash ring of <c>balance = "hash"</c> (Karger's ring with virtual points, as HAProxy's
/// <c>hash-type consistent</c>): each server owns <see cref="PointsPerWeight"/> points per unit of weight, placed by a
/// hash of its name and the point's number, so the ring does not depend on the order servers are listed in and a server
/// keeps its points across reloads. A key goes to the owner of the first point at or after the key's hash, walking on
/// past servers that cannot take it (down, drained, excluded): a server going down hands only its own keys to the next
/// servers on the ring, and gets exactly those back when it returns. Looking up is a binary search and a short walk;
/// it allocates nothing. Immutable: built with each <c>Rotation</c> of the backend (a weight change builds a new one).
/// </summary>
internal sealed class HashRing
{
    /// <summary>Points per unit of weight: enough for an even spread (about ±10% between servers of equal weight).</summary>
    public const int PointsPerWeight = 100;

    /// <summary>The most points a ring holds; heavier backends get fewer points per unit of weight (at least one).</summary>
    public const int MaxPoints = 1 << 16;

    private readonly uint[] _points;
    private readonly int[] _owners;

    private HashRing(uint[] points, int[] owners)
    {
        _points = points;
        _owners = owners;
    }

    /// <summary>How many points the ring holds.</summary>
    public int Count => _points.Length;

    /// <summary>Places the points of <paramref name="servers"/> with the weights in use (a server of weight 0 owns none).</summary>
    public static HashRing Build(IReadOnlyList<Server> servers)
    {
        long totalWeight = 0;
        foreach (Server server in servers)
        {
            totalWeight += Math.Max(server.Weight, 0);
        }

        int perWeight = totalWeight == 0 ? 0 : (int)Math.Clamp(MaxPoints / totalWeight, 1, PointsPerWeight);
        var placed = new List<(uint Point, int Owner)>((int)Math.Min(totalWeight * perWeight, MaxPoints * 2L));
        for (int index = 0; index < servers.Count; index++)
        {
            uint nameHash = Hashes.OfString(servers[index].Name);
            int count = Math.Max(servers[index].Weight, 0) * perWeight;
            for (int n = 0; n < count; n++)
            {
                placed.Add((Hashes.Mix(nameHash ^ Hashes.Mix((uint)n + 0x9e3779b9u)), index));
            }
        }

        // Ties (rare) are broken by server name, so that the ring is the same whatever the listing order.
        placed.Sort((x, y) => x.Point != y.Point ? x.Point.CompareTo(y.Point)
            : string.CompareOrdinal(servers[x.Owner].Name, servers[y.Owner].Name));
        return new HashRing(placed.Select(p => p.Point).ToArray(), placed.Select(p => p.Owner).ToArray());
    }

    /// <summary>
    /// The server of <paramref name="hash"/>: the owner of the first point at or after it that is eligible and not in
    /// <paramref name="exclude"/>, or null when no server of <paramref name="servers"/> is.
    /// </summary>
    /// <param name="servers">The servers the ring was built from, in the same order.</param>
    /// <param name="backups">True while the backend uses its backup servers (no normal one can take traffic): only they are picked then, else only normal ones.</param>
    public Server? Pick(uint hash, Server[] servers, IReadOnlyCollection<IServer>? exclude, bool backups = false)
    {
        if (_points.Length == 0 || !AnyEligible(servers, exclude, backups))
        {
            return null;
        }

        int start = Array.BinarySearch(_points, hash);
        if (start < 0)
        {
            start = ~start;
        }

        // Some server owning points is eligible (a server of weight 0 is never eligible), so the walk ends within one turn.
        for (int step = 0; step < _points.Length; step++)
        {
            int at = start + step;
            Server candidate = servers[_owners[at >= _points.Length ? at - _points.Length : at]];
            if (Eligible(candidate, exclude, backups))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool AnyEligible(Server[] servers, IReadOnlyCollection<IServer>? exclude, bool backups)
    {
        foreach (Server server in servers)
        {
            if (Eligible(server, exclude, backups))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Eligible(Server server, IReadOnlyCollection<IServer>? exclude, bool backups) =>
        server.IsEligible && server.IsBackup == backups && (exclude is null || !exclude.Contains(server));
}
