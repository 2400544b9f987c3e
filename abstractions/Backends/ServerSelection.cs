using System.Net;

namespace PluginProxy.Abstractions;

/// <summary>What a backend may look at when it picks a server for a stream.</summary>
/// <param name="Client">The client's address (used by <see cref="BalanceAlgorithm.Source"/>).</param>
/// <param name="HashKey">The key hashed by <see cref="BalanceAlgorithm.Uri"/> (the request URI for HTTP), or null.</param>
/// <param name="Preferred">
/// The server this stream should go to if it can take it (persistence: a cookie or a stick-table entry named it), or
/// null. A preferred server that is down, drained or excluded is passed over and the balancer picks as usual.
/// </param>
public readonly record struct ServerSelection(EndPoint? Client, string? HashKey = null, IServer? Preferred = null);
