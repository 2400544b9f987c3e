namespace PluginProxy.Host.Watching;

/// <summary>
/// One user's view of the <see cref="FileWatchService"/>: the files and folder trees it follows, and what it does once
/// they have been quiet for <see cref="Quiet"/> after a change. Its callback never overlaps itself: changes that arrive
/// while it runs are delivered by the next call.
/// </summary>
internal sealed class FileWatch : IAsyncDisposable
{
    private readonly FileWatchService _service;
    private readonly Func<IReadOnlyCollection<string>, Task> _changed;

    internal FileWatch(FileWatchService service, string name, TimeSpan quiet, Func<IReadOnlyCollection<string>, Task> changed)
    {
        _service = service;
        Name = name;
        Quiet = quiet;
        _changed = changed;
    }

    /// <summary>Names the watch in logs and in the name of the thread that runs its callback.</summary>
    public string Name { get; }

    /// <summary>How long nothing it follows may change before the callback runs (editors and builds write in several steps).</summary>
    public TimeSpan Quiet { get; }

    // The state below is guarded by the service's lock.

    /// <summary>Files followed, by full path, with what they looked like when last reported.</summary>
    internal Dictionary<string, FileStamp> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Folder trees followed, by full path: any change below one is reported.</summary>
    internal List<string> Trees { get; } = [];

    /// <summary>The folders this watch needs watched: (folder, with its sub-folders).</summary>
    internal HashSet<(string Directory, bool Recursive)> Directories { get; } = [];

    /// <summary>Paths named by events since the last call.</summary>
    internal HashSet<string> Pending { get; } = new(StringComparer.Ordinal);

    /// <summary>Something changed in a folder of a followed file: its stamp decides (a symlink swapped, a rename over it).</summary>
    internal bool Recheck { get; set; }

    /// <summary>When the last change arrived (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    internal long LastChange { get; set; }

    /// <summary>The callback running now, if any: completes when it ended (it never faults).</summary>
    internal Task? Running { get; set; }

    internal bool Disposed { get; set; }

    /// <summary>
    /// Replaces what this watch follows. <paramref name="files"/> are followed by path, whether they are written in place,
    /// replaced by a rename, or reached through a symbolic link that is swapped; <paramref name="trees"/> report any change
    /// below them. A folder that does not exist is not watched.
    /// </summary>
    public void Follow(IEnumerable<string> files, IEnumerable<string>? trees = null) =>
        _service.Follow(this, files.Select(Path.GetFullPath).ToHashSet(StringComparer.Ordinal), (trees ?? []).Select(t => Path.TrimEndingDirectorySeparator(Path.GetFullPath(t))).Distinct().ToList());

    /// <summary>True when <paramref name="path"/> is followed by name: one of the files, or below one of the trees.</summary>
    internal bool Names(string path)
    {
        if (Files.ContainsKey(path))
        {
            return true;
        }

        foreach (string tree in Trees)
        {
            if (path.StartsWith(tree, StringComparison.Ordinal) && (path.Length == tree.Length || path[tree.Length] == Path.DirectorySeparatorChar))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Runs the callback (on the service's runner thread); a failure is logged by the caller.</summary>
    internal Task InvokeAsync(IReadOnlyCollection<string> changed) => _changed(changed);

    /// <summary>Stops following; waits for a running callback to end unless called from it.</summary>
    public ValueTask DisposeAsync() => new(_service.RemoveAsync(this));
}
