using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging.Abstractions;
using PluginProxy.Abstractions;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Plugins;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Plugins;

/// <summary>The host's one timer for connection timeouts (<see cref="IHeartbeat"/>), as plugins get it.</summary>
public sealed class HeartbeatTests
{
    /// <summary>A deadline; counts how often it was asked and expired.</summary>
    private sealed class Deadline(long due, bool throwOnExpire = false) : IExpiring
    {
        public int Asked;
        public long ExpiredAt = -1;

        public bool IsExpired(long now)
        {
            Interlocked.Increment(ref Asked);
            return now >= due && Volatile.Read(ref ExpiredAt) < 0;
        }

        public void Expire(long now)
        {
            if (throwOnExpire)
            {
                throw new InvalidOperationException("a broken target");
            }

            Volatile.Write(ref ExpiredAt, now);
        }
    }

    [Fact]
    public async Task RegisteredTarget_IsExpiredWithinAFewBeatsOfItsDeadline()
    {
        var heartbeat = new Heartbeat();
        using Heartbeat.Registrations registrations = heartbeat.Open(NullLogger.Instance);
        long due = Environment.TickCount64 + 100;
        var target = new Deadline(due);
        registrations.Add(target);

        await Wait.UntilAsync(() => Volatile.Read(ref target.ExpiredAt) >= 0, "the deadline to expire");
        Assert.True(target.ExpiredAt >= due, "expired before its deadline");
        Assert.Equal(Heartbeat.Period, registrations.Period);
    }

    [Fact]
    public async Task RemovedTarget_IsNoLongerAsked()
    {
        var heartbeat = new Heartbeat();
        using Heartbeat.Registrations registrations = heartbeat.Open(NullLogger.Instance);
        var removed = new Deadline(long.MaxValue);
        var kept = new Deadline(long.MaxValue);
        registrations.Add(removed);
        registrations.Add(kept);
        await Wait.UntilAsync(() => Volatile.Read(ref removed.Asked) > 0, "the first beat");

        registrations.Remove(removed);
        int askedWhenRemoved = Volatile.Read(ref removed.Asked);
        int keptThen = Volatile.Read(ref kept.Asked);
        await Wait.UntilAsync(() => Volatile.Read(ref kept.Asked) > keptThen + 2, "later beats");
        // One beat may have been under way when it was removed.
        Assert.True(removed.Asked <= askedWhenRemoved + 1, $"asked {removed.Asked - askedWhenRemoved} times after its removal");
    }

    [Fact]
    public async Task TargetThatThrows_IsDropped_AndTheOthersStillExpire()
    {
        var heartbeat = new Heartbeat();
        using Heartbeat.Registrations registrations = heartbeat.Open(NullLogger.Instance);
        long now = Environment.TickCount64;
        var broken = new Deadline(now, throwOnExpire: true);
        var sound = new Deadline(now + 50);
        registrations.Add(broken);
        registrations.Add(sound);

        await Wait.UntilAsync(() => Volatile.Read(ref sound.ExpiredAt) >= 0, "the sound target to expire");
        Assert.Equal(1, registrations.Count);
    }

    [Fact]
    public void Timer_RunsOnlyWhileRegistrationsAreOpen_AndClosedRegistrationsHoldNothing()
    {
        var heartbeat = new Heartbeat();
        Assert.False(heartbeat.IsRunning);
        Heartbeat.Registrations first = heartbeat.Open(NullLogger.Instance);
        Heartbeat.Registrations second = heartbeat.Open(NullLogger.Instance);
        Assert.True(heartbeat.IsRunning);

        first.Add(new Deadline(long.MaxValue));
        first.Dispose();
        Assert.Equal(0, first.Count);
        first.Add(new Deadline(long.MaxValue));
        Assert.Equal(0, first.Count);
        Assert.True(heartbeat.IsRunning);

        second.Dispose();
        Assert.False(heartbeat.IsRunning);
    }
}

/// <summary>A plugin version's heartbeat registrations must not keep it in memory once it is unloaded.</summary>
[Collection(ForcesGarbageCollection.Name)]
public sealed class HeartbeatUnloadTests : IDisposable
{
    private readonly TempDirectory _plugins = new();

    public void Dispose() => _plugins.Dispose();

    /// <summary>A supervisor that registers a deadline that is never due and never removes it.</summary>
    private const string Forgetful = """
        public Greeter(IHeartbeat heartbeat) { heartbeat.Add(new Never()); }

        private sealed class Never : IExpiring
        {
            public bool IsExpired(long now) => false;

            public void Expire(long now) { }
        }
        """;

    [Fact]
    public async Task RegistrationsLeftByAPluginVersion_AreDroppedAtUnload_AndTheVersionIsCollected()
    {
        PluginFactory.Build(_plugins.Path, "Forgetful", PluginFactory.GreeterSource("\"v1\"", supervisor: "forgetful", extra: Forgetful));
        var catalog = new PluginCatalog(new PluginHostServices(NullLoggerFactory.Instance, new ServerConnector(NullLogger.Instance), new CapturedAccessLog(), new object()));
        Assert.Empty(await catalog.LoadFoldersAsync([_plugins.Path]));
        WeakReference context = ContextOf(catalog);

        await catalog.DisposeAsync();
        await Wait.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !context.IsAlive;
        }, "the plugin version to be collected");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ContextOf(PluginCatalog catalog) => catalog.Plugins.Single(p => p.Name == "Forgetful").LoadContext;
}
