using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Host.Watching;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Watching;

/// <summary>The one file watcher of the process: how a followed file's change is noticed, and when the watch is called.</summary>
public sealed class FileWatchServiceTests : IAsyncLifetime
{
    private readonly TempDirectory _folder = new();
    private readonly FileWatchService _service = new(NullLogger.Instance);
    private readonly ConcurrentQueue<IReadOnlyCollection<string>> _calls = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _service.DisposeAsync();
        _folder.Dispose();
    }

    private FileWatch Watch(TimeSpan quiet) => _service.Watch("test", quiet, changed => _calls.Enqueue(changed));

    private async Task WaitForCallAsync(string file, string how)
    {
        await Wait.UntilAsync(() => _calls.Any(c => c.Contains(file)), $"the watch to report {file} {how}");
        _calls.Clear();
    }

    [Fact]
    public async Task FollowedFile_IsReported_WhenWrittenInPlace_RenamedOver_OrSwappedThroughALink()
    {
        string file = _folder.Write("rule.csx", "1");
        await using FileWatch watch = Watch(TimeSpan.FromMilliseconds(50));
        watch.Follow([file]);

        await File.WriteAllTextAsync(file, "2");
        await WaitForCallAsync(file, "written in place");

        string temporary = _folder.Write(".rule.csx.tmp", "3");
        File.Move(temporary, file, overwrite: true);
        await WaitForCallAsync(file, "renamed over");

        // Kubernetes updates a mounted ConfigMap by swapping a link to a folder: the file's own path sees no event.
        string linked = _folder.Write("mounted/..v1/cert.pem", "one");
        _folder.Write("mounted/..v2/cert.pem", "two, longer");
        string mounted = Path.Combine(_folder.Path, "mounted");
        Directory.CreateSymbolicLink(Path.Combine(mounted, "..data"), Path.Combine(mounted, "..v1"));
        File.CreateSymbolicLink(Path.Combine(mounted, "cert.pem"), Path.Combine(mounted, "..data", "cert.pem"));
        string followed = Path.Combine(mounted, "cert.pem");
        watch.Follow([file, followed]);
        Assert.Equal("one", await File.ReadAllTextAsync(linked));

        Directory.CreateSymbolicLink(Path.Combine(mounted, "..data_tmp"), Path.Combine(mounted, "..v2"));
        Assert.Equal(0, rename(Path.Combine(mounted, "..data_tmp"), Path.Combine(mounted, "..data")));
        Assert.Equal("two, longer", await File.ReadAllTextAsync(followed));
        await WaitForCallAsync(followed, "when the link it goes through was swapped");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int rename(string oldPath, string newPath);

    [Fact]
    public async Task QuietPeriod_IsNotPostponed_ByAnotherFileWrittenAllTheTimeInTheSameFolder()
    {
        string file = _folder.Write("proxy.toml", "a = 1");
        await using FileWatch watch = Watch(TimeSpan.FromMilliseconds(100));
        watch.Follow([file]);
        using var stop = new CancellationTokenSource();
        int lines = 0;

        // A log written beside the file, a line every few milliseconds, as a busy proxy's log is.
        Task log = Task.Run(async () =>
        {
            await using var writer = new StreamWriter(Path.Combine(_folder.Path, "proxy.log")) { AutoFlush = true };
            while (!stop.IsCancellationRequested)
            {
                await writer.WriteLineAsync("GET /x 200");
                Interlocked.Increment(ref lines);
                await Task.Delay(5);
            }
        });

        await Wait.UntilAsync(() => Volatile.Read(ref lines) >= 40, "the log beside the file to be written");
        Assert.Empty(_calls);

        // The followed file changes once, whole (written beside it and renamed over it, so that a slow machine cannot
        // make two changes of one write): it is reported although the folder never goes quiet, and only once.
        string temporary = file + ".new";
        await File.WriteAllTextAsync(temporary, "a = 2");
        File.Move(temporary, file, overwrite: true);
        await WaitForCallAsync(file, "while the log beside it is written");
        int after = Volatile.Read(ref lines);
        await Wait.UntilAsync(() => Volatile.Read(ref lines) >= after + 60, "more of the log after the report");
        Assert.Empty(_calls);
        await stop.CancelAsync();
        await log;
    }

    [Fact]
    public async Task Tree_ReportsAFolderCopiedIn_AndItsFiles()
    {
        string root = Path.Combine(_folder.Path, "plugins");
        Directory.CreateDirectory(root);
        await using FileWatch watch = Watch(TimeSpan.FromMilliseconds(100));
        watch.Follow([], [root]);

        string plugin = Path.Combine(root, "Greeter");
        Directory.CreateDirectory(plugin);
        await File.WriteAllTextAsync(Path.Combine(plugin, "Greeter.dll"), "MZ");
        await Wait.UntilAsync(() => _calls.Any(c => c.Any(p => p.StartsWith(plugin, StringComparison.Ordinal))), "the new plugin folder to be reported");
        _calls.Clear();

        await File.WriteAllTextAsync(Path.Combine(plugin, "Greeter.dll"), "MZ2");
        await WaitForCallAsync(Path.Combine(plugin, "Greeter.dll"), "written in a folder created after the watch started");
    }

    [Fact]
    public async Task Callback_NeverOverlapsItself_AndAChangeDuringItIsReportedNext()
    {
        string file = _folder.Write("rule.csx", "1");
        var running = 0;
        var overlapped = false;
        var calls = new ConcurrentQueue<string>();
        using var release = new SemaphoreSlim(0);
        await using FileWatch watch = _service.Watch("slow", TimeSpan.FromMilliseconds(20), changed =>
        {
            overlapped |= Interlocked.Increment(ref running) > 1;
            calls.Enqueue(File.ReadAllText(file));
            release.Wait(TimeSpan.FromSeconds(10));
            Interlocked.Decrement(ref running);
        });
        watch.Follow([file]);

        await File.WriteAllTextAsync(file, "2");
        await Wait.UntilAsync(() => calls.Count == 1, "the first call");
        await File.WriteAllTextAsync(file, "3");
        await Task.Delay(200);
        Assert.Single(calls);
        release.Release(10);
        await Wait.UntilAsync(() => calls.Count >= 2 && calls.Last() == "3", "the change made during the first call to be reported next");
        Assert.False(overlapped);
    }
}
