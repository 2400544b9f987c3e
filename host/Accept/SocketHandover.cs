using System.Net;
using System.Net.Sockets;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Accept;

/// <summary>
/// The listening sockets of the running listeners that a reload replaces or removes, offered to the listeners of the
/// new configuration. An address bound before and after the reload is taken over already bound instead of being closed
/// and bound again: it never stops accepting (clients waiting in its queue are served by the new listener), and no
/// other process can take it in between. Nothing changes hands until <see cref="Commit"/>.
/// </summary>
internal sealed class SocketHandover
{
    private readonly List<Offer> _offers = [];

    // The fixed addresses the next configuration binds: a socket on one of them goes to that address, never to an
    // ephemeral-port entry ("127.0.0.1:0") that happens to be written the same way as the one it was made for.
    private readonly HashSet<IPEndPoint> _named;

    private readonly IReadOnlyList<Listener> _running;

    /// <param name="running">Every running listener.</param>
    /// <param name="leaving">The running listeners that stop accepting when the reload is applied.</param>
    /// <param name="next">Every listener of the next configuration.</param>
    public SocketHandover(IReadOnlyList<Listener> running, IEnumerable<Listener> leaving, IEnumerable<ListenerConfig> next)
    {
        _running = running;
        foreach (Listener listener in leaving)
        {
            IReadOnlyList<Socket> sockets = listener.ListeningSockets;
            for (int i = 0; i < sockets.Count; i++)
            {
                _offers.Add(new Offer(listener, listener.BoundConfig.Binds[i], sockets[i], (IPEndPoint)sockets[i].LocalEndPoint!));
            }
        }

        _named = next.SelectMany(l => l.Binds).Select(b => b.EndPoint).Where(e => e.Port != 0).ToHashSet();
    }

    /// <summary>
    /// The bound socket <paramref name="taker"/> may take over for <paramref name="bind"/>: one bound on that very address
    /// (with a port of 0, one the same listener made for the same entry), or null when there is none.
    /// </summary>
    /// <exception cref="ListenerBindException">A running listener holds the address, but its socket cannot serve the new settings.</exception>
    public (Socket Socket, ListenerConfig BoundWith)? TryTake(Listener taker, BindAddress bind)
    {
        Offer? offer = bind.EndPoint.Port != 0
            ? _offers.Find(o => o.TakenBy is null && o.Bound.Equals(bind.EndPoint))
            : _offers.Find(o => o.TakenBy is null && o.From.Name == taker.Name && o.Bind.EndPoint.Equals(bind.EndPoint) && !_named.Contains(o.Bound));
        if (offer is null)
        {
            return null;
        }

        if (Listener.WhyCannotTakeOver(offer.From.BoundConfig, taker.BoundConfig) is { } why)
        {
            throw new ListenerBindException($"{bind.Spot}: listener \"{taker.Name}\" cannot take over {EndPoints.Format(offer.Bound)} from the running listener \"{offer.From.Name}\": {why}");
        }

        offer.TakenBy = taker;
        return (offer.Socket, offer.From.BoundConfig);
    }

    /// <summary>
    /// Why <paramref name="wanted"/> is in use when a running listener holds an overlapping address (the same port on
    /// the wildcard address, or the wildcard while a specific address is held), or null when none does.
    /// </summary>
    public string? WhyInUse(IPEndPoint wanted)
    {
        foreach (Listener listener in _running)
        {
            foreach (IPEndPoint bound in listener.BoundEndPoints)
            {
                if (bound.Port == wanted.Port && (IsWildcard(bound.Address) || IsWildcard(wanted.Address) || bound.Address.Equals(wanted.Address)))
                {
                    return $"it overlaps {EndPoints.Format(bound)}, which the running listener \"{listener.Name}\" holds; a reload cannot move " +
                           "between overlapping addresses without a moment where neither accepts: restart the proxy, or move in two reloads through another port";
                }
            }
        }

        return null;
    }

    private static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    /// <summary>Tells each running listener which of its sockets it must leave open when it stops.</summary>
    public void Commit()
    {
        foreach (Offer offer in _offers.Where(o => o.TakenBy is not null))
        {
            offer.From.HandOver(offer.Socket);
        }
    }

    private sealed class Offer(Listener from, BindAddress bind, Socket socket, IPEndPoint bound)
    {
        public Listener From { get; } = from;

        /// <summary>The entry of <c>bind</c> the socket was made for, as written.</summary>
        public BindAddress Bind { get; } = bind;

        public Socket Socket { get; } = socket;

        /// <summary>Where the socket is bound (the real port when the entry said 0).</summary>
        public IPEndPoint Bound { get; } = bound;

        public Listener? TakenBy { get; set; }
    }
}
