using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// One loaded version of a plugin or a script. When its last reference goes, <see cref="UnloadAsync"/> starts on a thread
/// of its own: the releasing thread is often a socket thread (the last session on the version ending, a keep-alive stream
/// moving to a newer pipeline), socket threads must never block, and unloading runs plugin or script code
/// (<c>StopAsync</c>, <c>Dispose</c>) that may block before it returns. Once the unload awaits, the thread ends; the rest
/// runs on the thread pool.
/// </summary>
internal abstract class LoadedVersion : RefCounted
{
    /// <summary>How long a plugin or script may take to start or stop.</summary>
    public static readonly TimeSpan LifecycleTimeout = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource _unloaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once <see cref="UnloadAsync"/> has run (it never faults).</summary>
    public Task Unloaded => _unloaded.Task;

    protected abstract ILogger Log { get; }

    /// <summary>Stops and disposes what this version built, and unloads its load context.</summary>
    protected abstract Task UnloadAsync();

    protected sealed override void OnReleased() =>
        new Thread(() => _ = RunUnloadAsync()) { IsBackground = true, Name = $"unload {this}" }.Start();

    private async Task RunUnloadAsync()
    {
        try
        {
            await UnloadAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Nothing may escape an unload nobody awaits; what failed is logged.
            PluginLog.UnloadFailed(Log, ex, this);
        }
        finally
        {
            _unloaded.TrySetResult();
        }
    }

    /// <summary>
    /// Waits (up to <see cref="LifecycleTimeout"/>) for the versions that are unloading now, the ones no reference holds any
    /// more: a stopping proxy lets their <c>StopAsync</c> finish before it exits. Versions still in use are not waited for.
    /// </summary>
    public static async Task WaitForUnloadsAsync(IEnumerable<LoadedVersion> retired)
    {
        Task[] unloading = retired.Where(v => v.References == 0).Select(v => v.Unloaded).ToArray();
        try
        {
            await Task.WhenAll(unloading).WaitAsync(LifecycleTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Each version's own stop timeout bounds it; one still unloading by now is not waited for any longer.
        }
    }
}
