using Microsoft.Extensions.Logging;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>
/// Resolves the names of servers named by host name: once when a configuration is loaded (<see cref="ResolveNewAsync"/>:
/// a name that does not resolve is an error, unless the server says <c>init_addr = "none"</c>), then again every
/// <c>resolve_interval</c> of its backend, in the background, one loop per server. A reload stops these loops and
/// starts those of the new configuration; a kept server keeps its addresses and resolution state, and the interval
/// since its last resolution.
/// </summary>
internal sealed class DnsRefresher : IAsyncDisposable
{
    private readonly NameResolver _resolver;
    private readonly ILogger _log;
    // Never disposed: it has no timer, and a second DisposeAsync must still be able to see it cancelled.
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private int _disposed;

    /// <summary>Starts resolving again the names of the servers of <paramref name="backends"/>.</summary>
    public DnsRefresher(BackendCatalog backends, NameResolver resolver, ILogger log)
    {
        _resolver = resolver;
        _log = log;
        foreach (Server server in backends.Backends.SelectMany(b => b.ServerStates).Where(s => s.Resolution is not null))
        {
            _loops.Add(Task.Run(() => RunAsync(server, _stop.Token)));
        }
    }

    /// <summary>The resolver the loops use.</summary>
    public NameResolver Resolver => _resolver;

    /// <summary>
    /// Resolves, in parallel, the names of the servers of <paramref name="backends"/> that were never resolved (new
    /// servers: a reload's kept servers keep their state). A name that does not resolve is reported at its
    /// <c>address</c> in <paramref name="errors"/>, unless its server says <c>init_addr = "none"</c>: then it starts without
    /// an address (logged), not eligible until a later resolution gives it one.
    /// </summary>
    public static async Task ResolveNewAsync(BackendCatalog backends, NameResolver resolver, ILogger log, List<ConfigError> errors)
    {
        Server[] pending = backends.Backends.SelectMany(b => b.ServerStates).Where(s => s.Resolution is { Attempted: false }).ToArray();
        ResolveResult[] results = await Task.WhenAll(pending.Select(s => resolver.ResolveAsync(s.Resolution!.Name, CancellationToken.None))).ConfigureAwait(false);
        for (int i = 0; i < pending.Length; i++)
        {
            Server server = pending[i];
            ServerHostName name = server.Resolution!.Name;
            server.Resolution.Apply(server, results[i], null);
            if (results[i].Failure is not { } failure)
            {
                continue;
            }

            if (name.StartWithoutAddress)
            {
                DnsLog.StartsWithoutAddress(log, server, name.Written, failure);
            }
            else
            {
                string what = name.Srv ? "SRV name" : "name";
                errors.Add(new ConfigError(name.Spot,
                    $"server \"{server.Name}\" `address`: the {what} \"{name.Host}\" does not resolve ({failure}); fix it, or add init_addr = \"none\" to start without an address until it resolves"));
            }
        }
    }

    private async Task RunAsync(Server server, CancellationToken stop)
    {
        ServerResolution resolution = server.Resolution!;
        try
        {
            // After a reload, keep the interval since the resolution the previous configuration made last.
            TimeSpan since = TimeSpan.FromMilliseconds(Environment.TickCount64 - resolution.LastAttemptAt);
            if (Interval(server) - since is { } wait && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, stop).ConfigureAwait(false);
            }

            while (!stop.IsCancellationRequested && !server.Removed)
            {
                ResolveResult result = await _resolver.ResolveAsync(resolution.Name, stop).ConfigureAwait(false);
                resolution.Apply(server, result, _log);
                await Task.Delay(Interval(server), stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping: the loops end with the configuration that started them.
        }
    }

    /// <summary>The <c>resolve_interval</c> of the backend the server is in now (a reload that keeps it may change it).</summary>
    private static TimeSpan Interval(Server server) => server.Backend is Backend backend ? backend.ResolveInterval : DnsSettings.DefaultInterval;

    /// <summary>Stops the loops and waits for them to end; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stop.Cancel();
        }

        await Task.WhenAll(_loops).ConfigureAwait(false);
    }
}
