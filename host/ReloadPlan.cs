using System.Net;
using Microsoft.Extensions.Logging;
using PluginProxy.Host.Accept;
using PluginProxy.Host.Admin;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Sessions;

namespace PluginProxy.Host;

/// <summary>
/// What a configuration reload does to the listeners and the admin endpoint, decided before anything changes. Each
/// listener of the new configuration is <em>kept</em> (its sockets and accept settings are the same: it only gets the
/// new pipeline), <em>replaced</em> (they differ: a new listener takes over the addresses it still lists, already bound,
/// and binds the others) or <em>added</em>; a running listener the new configuration does not name is <em>removed</em>.
/// <see cref="Bind"/> binds every new socket while everything running goes on accepting; if anything fails,
/// <see cref="Abandon"/> leaves the running listeners and admin endpoint exactly as they were. <see cref="ApplyAsync"/>
/// starts the new listeners before it stops the old ones, so an address kept never stops accepting.
/// </summary>
internal sealed class ReloadPlan
{
    private readonly List<Step> _steps = [];
    private readonly List<Listener> _removed;
    private readonly SocketHandover _handover;
    private readonly AdminServer? _runningAdmin;
    private readonly bool _adminChanged;
    private readonly ProxyConfig _next;
    private readonly Func<ProxyConfig, AdminServer> _createAdmin;
    private readonly ILogger _log;
    private AdminServer? _newAdmin;

    /// <param name="running">The listeners accepting now.</param>
    /// <param name="pipelines">One pipeline per listener of the new configuration, in its order.</param>
    /// <param name="createListener">Makes the (unbound) listener for a pipeline that cannot go to a running listener.</param>
    /// <param name="admin">The running admin endpoint and the [global] it was configured with.</param>
    /// <param name="next">The new configuration, for its admin sockets.</param>
    /// <param name="createAdmin">Binds an admin endpoint for a configuration (not yet accepting).</param>
    public ReloadPlan(IReadOnlyList<Listener> running, IReadOnlyList<ListenerPipeline> pipelines, Func<ListenerPipeline, Listener> createListener,
        (AdminServer? Server, GlobalConfig Global) admin, ProxyConfig next, Func<ProxyConfig, AdminServer> createAdmin, ILogger log)
    {
        foreach (ListenerPipeline pipeline in pipelines)
        {
            Listener? existing = running.FirstOrDefault(l => l.Name == pipeline.Config.Name);
            bool keep = existing is not null && existing.CanKeepSockets(pipeline.Config);
            _steps.Add(new Step(pipeline, existing, keep ? null : createListener(pipeline)));
        }

        _removed = running.Where(l => _steps.All(s => s.Running != l)).ToList();
        _handover = new SocketHandover(running, Leaving, pipelines.Select(p => p.Config));
        _runningAdmin = admin.Server;
        _adminChanged = !AdminServer.SameSockets(admin.Global, next.Global);
        _next = next;
        _createAdmin = createAdmin;
        _log = log;
    }

    /// <summary>The running listeners that stop accepting when the plan is applied (replaced or removed).</summary>
    private IEnumerable<Listener> Leaving => _steps.Where(s => s.IsReplace).Select(s => s.Running!).Concat(_removed);

    /// <summary>
    /// Binds (or takes over) every socket the new listeners need, and the new admin address if it changed. Nothing
    /// running is touched.
    /// </summary>
    /// <returns>Every address that cannot be bound, as <c>file:line:column: ...</c>; empty when the plan can be applied.</returns>
    public List<string> Bind()
    {
        var problems = new List<string>();
        foreach (Listener listener in _steps.Select(s => s.Replacement).OfType<Listener>())
        {
            try
            {
                listener.Bind(_handover);
            }
            catch (ListenerBindException ex)
            {
                problems.Add(ex.Message);
            }
        }

        if (_adminChanged && AdminServer.IsConfigured(_next.Global))
        {
            try
            {
                _newAdmin = _createAdmin(_next);
            }
            catch (AdminBindException ex)
            {
                problems.Add(ex.Message);
            }
        }

        return problems;
    }

    /// <summary>Lets go of everything <see cref="Bind"/> made; the running listeners and admin endpoint stay as they were.</summary>
    public void Abandon()
    {
        foreach (Step step in _steps)
        {
            step.Replacement?.Abandon();
            step.Pipeline.Retire();
        }

        _newAdmin?.Dispose();
    }

    /// <summary>
    /// Puts the new configuration's listeners to work: new pipelines on kept listeners, new listeners accepting, then
    /// the replaced and removed ones stop accepting (their sessions finish on the pipeline they started with).
    /// </summary>
    /// <returns>The listeners now running, in configuration order, and the admin endpoint.</returns>
    public async Task<(List<Listener> Listeners, AdminServer? Admin)> ApplyAsync()
    {
        var listeners = new List<Listener>(_steps.Count);
        foreach (Step step in _steps)
        {
            if (step.Replacement is null)
            {
                step.Running!.SwapPipeline(step.Pipeline).Retire();
                listeners.Add(step.Running);
            }
            else
            {
                step.Replacement.StartAccepting();
                listeners.Add(step.Replacement);
            }
        }

        // The new listeners accept on the sockets they took over; only now may the old ones stop.
        _handover.Commit();
        foreach (Listener old in Leaving)
        {
            // Off the socket thread that ends the last accept loop (inline completions): the reload goes on afterwards.
            await old.StopAcceptingAsync().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            old.Pipeline.Retire();
            if (_removed.Contains(old))
            {
                HostLog.ListenerRemoved(_log, old.Name);
            }
            else
            {
                HostLog.ListenerReplaced(_log, old.Name);
            }
        }

        if (!_adminChanged)
        {
            return (listeners, _runningAdmin);
        }

        _runningAdmin?.Dispose();
        _newAdmin?.Start();
        return (listeners, _newAdmin);
    }

    /// <summary>For the reload's log line.</summary>
    public override string ToString() =>
        $"{_steps.Count(s => s.Replacement is null)} kept, {_steps.Count(s => s.IsReplace)} replaced, " +
        $"{_steps.Count(s => s.Running is null)} added, {_removed.Count} removed";

    /// <summary>One listener of the new configuration: kept (no replacement), replaced, or added (nothing running).</summary>
    private sealed record Step(ListenerPipeline Pipeline, Listener? Running, Listener? Replacement)
    {
        public bool IsReplace => Running is not null && Replacement is not null;
    }
}
