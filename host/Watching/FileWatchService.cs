using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Watching;

/// <summary>
/// The one file watcher of the process: scripts, plugin folders, proxy.toml and certificates are all watched through it,
/// each user with a <see cref="FileWatch"/>. It keeps one <see cref="FileSystemWatcher"/> per folder however many watches
/// need it. The quiet periods are timed on a thread of the service's own, and each callback runs on a thread of its own,
/// so neither a busy thread pool nor another watch's slow callback (a compile, a configuration reload) delays a reload.
/// </summary>
/// <remarks>
/// A change counts when an event names a followed file or a path below a followed tree. An event for another file in the
/// folder of a followed file (a temporary file, an editor's backup, a log written beside it) only makes the service look
/// at the followed files' <see cref="FileStamp"/>s again, at most every <see cref="RecheckInterval"/>: a folder where
/// something else is written all the time neither postpones nor hides a change.
/// </remarks>
internal sealed class FileWatchService : IAsyncDisposable
{
    /// <summary>How often, at most, the followed files of a busy folder are looked at again.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>How long disposing a watch waits for its running callback.</summary>
    private static readonly TimeSpan CallbackGrace = TimeSpan.FromSeconds(10);

    private const NotifyFilters Filters = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime;

    /// <summary>The watch whose callback runs in this flow: a callback that stops its own watch does not wait for itself.</summary>
    private static readonly AsyncLocal<FileWatch?> InCallback = new();

    private readonly ILogger _log;
    private readonly object _gate = new();
    private readonly List<FileWatch> _watches = [];
    private readonly Dictionary<(string Directory, bool Recursive), FolderWatcher> _folders = [];
    private readonly Thread _timer;
    private bool _disposed;

    public FileWatchService(ILogger log)
    {
        _log = log;
        _timer = new Thread(Run) { IsBackground = true, Name = "file watch" };
        _timer.Start();
    }

    /// <summary>
    /// A new watch that follows nothing yet (see <see cref="FileWatch.Follow"/>). <paramref name="changed"/> gets the paths
    /// that changed, once nothing it follows has changed for <paramref name="quiet"/>.
    /// </summary>
    public FileWatch Watch(string name, TimeSpan quiet, Action<IReadOnlyCollection<string>> changed) =>
        Watch(name, quiet, paths =>
        {
            changed(paths);
            return Task.CompletedTask;
        });

    /// <summary>
    /// A new watch whose callback is asynchronous (a reload): the next call waits until the task it returned completes.
    /// </summary>
    public FileWatch Watch(string name, TimeSpan quiet, Func<IReadOnlyCollection<string>, Task> changed)
    {
        var watch = new FileWatch(this, name, quiet, changed);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _watches.Add(watch);
        }

        return watch;
    }

    internal void Follow(FileWatch watch, HashSet<string> files, List<string> trees)
    {
        lock (_gate)
        {
            if (watch.Disposed)
            {
                return;
            }

            // A file followed already keeps the stamp it was last seen with; a new one is stamped now, before its user
            // reads it (callers follow first, then read), so that a change made meanwhile is seen.
            foreach (string gone in watch.Files.Keys.Where(f => !files.Contains(f)).ToList())
            {
                watch.Files.Remove(gone);
            }

            foreach (string file in files)
            {
                if (!watch.Files.ContainsKey(file))
                {
                    watch.Files[file] = FileStamp.Of(file);
                }
            }

            watch.Trees.Clear();
            watch.Trees.AddRange(trees);
            var needed = files.Select(f => (Path.GetDirectoryName(f)!, false)).Concat(trees.Select(t => (t, true))).ToHashSet();
            foreach ((string, bool) folder in watch.Directories.Where(d => !needed.Contains(d)).ToList())
            {
                watch.Directories.Remove(folder);
                ReleaseFolder(folder);
            }

            foreach ((string, bool) folder in needed.Where(d => !watch.Directories.Contains(d)))
            {
                if (AcquireFolder(folder))
                {
                    watch.Directories.Add(folder);
                }
            }
        }
    }

    internal async Task RemoveAsync(FileWatch watch)
    {
        Task? running;
        lock (_gate)
        {
            if (watch.Disposed)
            {
                return;
            }

            watch.Disposed = true;
            _watches.Remove(watch);
            foreach ((string, bool) folder in watch.Directories)
            {
                ReleaseFolder(folder);
            }

            watch.Directories.Clear();
            running = watch.Running;
        }

        // A reload in progress finishes before its user goes away (unless the reload itself is what disposes the watch).
        if (running is null || InCallback.Value == watch)
        {
            return;
        }

        try
        {
            await running.WaitAsync(CallbackGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            WatchLog.ReloadStillRuns(_log, watch.Name, CallbackGrace.TotalSeconds);
        }
    }

    private bool AcquireFolder((string Directory, bool Recursive) key)
    {
        if (_folders.TryGetValue(key, out FolderWatcher? folder))
        {
            folder.Users++;
            return true;
        }

        if (!Directory.Exists(key.Directory))
        {
            WatchLog.FolderMissing(_log, key.Directory);
            return false;
        }

        try
        {
            var watcher = new FileSystemWatcher(key.Directory) { IncludeSubdirectories = key.Recursive, NotifyFilter = Filters };
            watcher.Changed += (_, e) => OnEvent(e.FullPath);
            watcher.Created += (_, e) => OnEvent(e.FullPath);
            watcher.Deleted += (_, e) => OnEvent(e.FullPath);
            watcher.Renamed += (_, e) =>
            {
                OnEvent(e.OldFullPath);
                OnEvent(e.FullPath);
            };
            watcher.Error += (_, e) => OnError(key, e.GetException());
            watcher.EnableRaisingEvents = true;
            _folders[key] = new FolderWatcher(watcher);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Out of inotify watches or instances, or the folder went away: say so; the rest keeps working.
            WatchLog.CannotWatch(_log, key.Directory, ex.Message);
            return false;
        }
    }

    private void ReleaseFolder((string Directory, bool Recursive) key)
    {
        if (_folders.TryGetValue(key, out FolderWatcher? folder) && --folder.Users == 0)
        {
            _folders.Remove(key);
            folder.Watcher.Dispose();
        }
    }

    /// <summary>An event (raised on a thread-pool thread by <see cref="FileSystemWatcher"/>): notes it for the watches it concerns.</summary>
    private void OnEvent(string path)
    {
        string? directory = Path.GetDirectoryName(path);
        lock (_gate)
        {
            bool noted = false;
            foreach (FileWatch watch in _watches)
            {
                if (watch.Names(path))
                {
                    watch.Pending.Add(path);
                    watch.LastChange = Stopwatch.GetTimestamp();
                    noted = true;
                }
                else if (directory is not null && watch.Directories.Contains((directory, false)))
                {
                    watch.Recheck = true;
                    noted = true;
                }
            }

            if (noted)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Events were lost (the kernel's queue overflowed): every watch of that folder looks at everything again.</summary>
    private void OnError((string Directory, bool Recursive) key, Exception error)
    {
        WatchLog.EventsLost(_log, key.Directory, error.Message);
        lock (_gate)
        {
            foreach (FileWatch watch in _watches.Where(w => w.Directories.Contains(key)))
            {
                watch.Recheck = true;
                foreach (string tree in watch.Trees.Where(t => t == key.Directory))
                {
                    watch.Pending.Add(tree);
                    watch.LastChange = Stopwatch.GetTimestamp();
                }
            }

            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The timing thread: rechecks busy folders, and starts each watch's callback once it has been quiet long enough.</summary>
    private void Run()
    {
        long lastRecheck = 0;
        lock (_gate)
        {
            while (!_disposed)
            {
                long now = Stopwatch.GetTimestamp();
                TimeSpan wait = Timeout.InfiniteTimeSpan;
                TimeSpan sinceRecheck = Stopwatch.GetElapsedTime(lastRecheck, now);
                bool recheckDue = sinceRecheck >= RecheckInterval;
                foreach (FileWatch watch in _watches)
                {
                    if (watch.Recheck)
                    {
                        if (recheckDue)
                        {
                            Recheck(watch, now);
                        }
                        else
                        {
                            wait = Shorter(wait, RecheckInterval - sinceRecheck);
                        }
                    }

                    if (watch.Pending.Count == 0 || watch.Running is not null)
                    {
                        continue;
                    }

                    TimeSpan left = watch.Quiet - Stopwatch.GetElapsedTime(watch.LastChange, now);
                    if (left <= TimeSpan.Zero)
                    {
                        Start(watch);
                    }
                    else
                    {
                        wait = Shorter(wait, left);
                    }
                }

                if (recheckDue)
                {
                    lastRecheck = now;
                }

                Monitor.Wait(_gate, wait);
            }
        }
    }

    private static TimeSpan Shorter(TimeSpan wait, TimeSpan other) => wait == Timeout.InfiniteTimeSpan || other < wait ? other : wait;

    /// <summary>Looks at the stamps of a watch's files: a file that looks different counts as changed now.</summary>
    private static void Recheck(FileWatch watch, long now)
    {
        watch.Recheck = false;
        foreach ((string file, FileStamp seen) in watch.Files.ToList())
        {
            FileStamp stamp = FileStamp.Of(file);
            if (stamp != seen)
            {
                watch.Files[file] = stamp;
                watch.Pending.Add(file);
                watch.LastChange = now;
            }
        }
    }

    private void Start(FileWatch watch)
    {
        var changed = watch.Pending.ToList();
        watch.Pending.Clear();
        foreach (string path in changed.Where(watch.Files.ContainsKey))
        {
            watch.Files[path] = FileStamp.Of(path);
        }

        // A thread per call: calls are rare (a person or a deploy changed something), and a slow one (a compile, a plugin
        // whose start blocks) then holds up neither the other watches nor the thread pool. Once the callback awaits, the
        // thread ends and the rest runs on the thread pool.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watch.Running = done.Task;
        new Thread(() => _ = RunCallbackAsync(watch, changed, done)) { IsBackground = true, Name = $"reload {watch.Name}" }.Start();
    }

    private async Task RunCallbackAsync(FileWatch watch, IReadOnlyCollection<string> changed, TaskCompletionSource done)
    {
        InCallback.Value = watch;
        try
        {
            await watch.InvokeAsync(changed).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A reload that throws must not end the watching; it is logged and the next change tries again.
            WatchLog.CallbackFailed(_log, ex, watch.Name, string.Join(", ", changed));
        }
        finally
        {
            lock (_gate)
            {
                watch.Running = null;
                Monitor.PulseAll(_gate);
            }

            done.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<FileWatch> watches;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            watches = [.. _watches];
            Monitor.PulseAll(_gate);
        }

        // The timing thread only waits on the lock's condition: it ends at once once pulsed.
        _timer.Join();
        foreach (FileWatch watch in watches)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One folder's <see cref="FileSystemWatcher"/> and how many watches use it.</summary>
    private sealed class FolderWatcher(FileSystemWatcher watcher)
    {
        public FileSystemWatcher Watcher { get; } = watcher;

        public int Users { get; set; } = 1;
    }
}
