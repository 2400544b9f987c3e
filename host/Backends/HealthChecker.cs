using Microsoft.Extensions.Logging;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Backends;

/// <summary>
/// Runs the health checks of the backends that have a <c>check</c>: every <c>interval</c>, a connect or an HTTP GET per
/// server (<see cref="HealthCheck"/>: through the server connector, and the http plugin's codec);
/// <c>fall</c> consecutive failures take a server down, <c>rise</c> consecutive successes bring it back.
/// A configuration reload stops these checks and starts those of the new configuration, which carry on from where
/// each kept server stood (<see cref="Progress"/>); a server of a backend without checks is always up.
/// </summary>
internal sealed class HealthChecker : IAsyncDisposable
{
    private readonly ILogger _log;
    private readonly HealthCheck _check;
    // Never disposed: it has no timer, and a second DisposeAsync must still be able to see it cancelled.
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;
    private readonly List<Task> _loops = [];
    private readonly Dictionary<Server, CheckProgress> _progress = [];

    /// <param name="backends">The backends of the running configuration.</param>
    /// <param name="plugins">Where the probe of http checks is found at each check (null: none, http checks fail).</param>
    /// <param name="log">Where servers going up and down are logged.</param>
    /// <param name="carried">The progress of the checks of the previous configuration (stopped), by server.</param>
    public HealthChecker(BackendCatalog backends, PluginCatalog? plugins, ILogger log, IReadOnlyDictionary<Server, CheckProgress>? carried = null)
    {
        _log = log;
        _check = new HealthCheck(plugins);
        foreach (Backend backend in backends.Backends)
        {
            if (backend.Check is not { } check)
            {
                BringUpUnchecked(backend);
                continue;
            }

            if (check.Kind == HealthCheckKind.Http && !_check.CanCheckHttp)
            {
                BackendLog.NoHttpProbe(_log, backend.Name);
            }

            foreach (Server server in backend.ServerStates)
            {
                Start(server, check, carried?.GetValueOrDefault(server) ?? new CheckProgress());
            }
        }
    }

    /// <summary>Where each checked server's checks stand; complete once this checker is disposed.</summary>
    public IReadOnlyDictionary<Server, CheckProgress> Progress
    {
        get
        {
            lock (_loops)
            {
                return new Dictionary<Server, CheckProgress>(_progress);
            }
        }
    }

    /// <summary>Starts checking a server the runtime API added to <paramref name="backend"/>, if that backend has a check.</summary>
    public void Add(Server server, Backend backend)
    {
        if (backend.Check is { } check)
        {
            Start(server, check, new CheckProgress());
        }
    }

    private void Start(Server server, HealthCheckConfig check, CheckProgress progress)
    {
        lock (_loops)
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            _progress[server] = progress;
            _loops.Add(Task.Run(() => RunAsync(server, check, progress, _stop.Token)));
        }
    }

    /// <summary>A kept server that checks took down, in a backend that has no check any more: nothing else would bring it back.</summary>
    private void BringUpUnchecked(Backend backend)
    {
        foreach (Server server in backend.ServerStates.Where(s => !s.IsUp))
        {
            server.SetUp(true);
            server.LastCheckFailure = null;
            BackendLog.UpUnchecked(_log, server);
        }
    }

    private async Task RunAsync(Server server, HealthCheckConfig check, CheckProgress progress, CancellationToken stop)
    {
        try
        {
            // After a reload, keep the interval since the check the previous configuration made last.
            if (progress.DueIn(check.Interval) is { } wait && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, stop).ConfigureAwait(false);
            }

            while (!stop.IsCancellationRequested && !server.Removed)
            {
                if (server.AdminState == ServerAdminState.Maint)
                {
                    // In maintenance the server is not checked: its health stays as the last checks left it.
                    await Task.Delay(check.Interval, stop).ConfigureAwait(false);
                    continue;
                }

                string? failure = await _check.RunAsync(server, check, stop).ConfigureAwait(false);
                progress.LastCheckedAt = Environment.TickCount64;
                Count(server, check, progress, failure);
                await Task.Delay(check.Interval, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping: the checks end with the configuration that started them.
        }
    }

    private void Count(Server server, HealthCheckConfig check, CheckProgress progress, string? failure)
    {
        if (failure is null)
        {
            progress.Failures = 0;
            progress.Successes++;
            if (!server.IsUp && progress.Successes >= check.Rise)
            {
                server.SetUp(true);
                server.LastCheckFailure = null;
                BackendLog.Up(_log, server, progress.Successes);
            }
        }
        else
        {
            progress.Successes = 0;
            progress.Failures++;
            server.LastCheckFailure = failure;
            if (server.IsUp && progress.Failures >= check.Fall)
            {
                server.SetUp(false);
                BackendLog.Down(_log, server, progress.Failures, failure);
            }
        }
    }

    /// <summary>Stops the checks and waits for them to end; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] loops;
        lock (_loops)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _stop.Cancel();
            }

            loops = [.. _loops];
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
    }
}
