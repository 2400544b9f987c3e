using System.Net;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Tests.Analyzers;

/// <summary><c>ProxyStream.OnEnded</c> / <c>NotifyEnded</c>: the hook the typed logging phase rides on.</summary>
public class StreamEndObserverTests
{
    private readonly ProxyStream _stream = new(null!, new Channel(ChannelDirection.Request, 1024), new Channel(ChannelDirection.Response, 1024));

    private static HttpLogEntry Entry(int status) => new() { Started = DateTime.UtcNow, Listener = "web", Client = new IPEndPoint(IPAddress.Loopback, 1), Status = status };

    [Fact]
    public void EachObserver_IsToldOnce_EvenWhenRegisteredTwice_AndNotAgainAfterwards()
    {
        var first = new Recorder();
        var second = new Recorder();
        Assert.False(_stream.HasEndObservers);
        _stream.OnEnded(first);
        _stream.OnEnded(second);
        _stream.OnEnded(first);
        _stream.OnEnded(second);

        Assert.Null(_stream.NotifyEnded(Entry(200)));
        Assert.Null(_stream.NotifyEnded(Entry(201)));

        Assert.Equal([200], first.Statuses);
        Assert.Equal([200], second.Statuses);
        Assert.False(_stream.HasEndObservers);
    }

    [Fact]
    public void AnObserverThatThrows_IsReturned_AndTheOthersAreStillTold()
    {
        var after = new Recorder();
        _stream.OnEnded(new Thrower());
        _stream.OnEnded(new Thrower());
        _stream.OnEnded(after);

        Exception? failure = _stream.NotifyEnded(Entry(500));

        Assert.IsType<InvalidOperationException>(failure);
        Assert.Equal([500], after.Statuses);
    }

    [Fact]
    public void Reset_ForgetsTheObservers_OfTheStreamBefore()
    {
        var recorder = new Recorder();
        _stream.OnEnded(new Recorder());
        _stream.OnEnded(recorder);

        _stream.Reset(null);
        _stream.NotifyEnded(Entry(200));

        Assert.Empty(recorder.Statuses);
        Assert.False(_stream.HasEndObservers);
    }

    private sealed class Recorder : IStreamEndObserver
    {
        public List<int> Statuses { get; } = [];

        public void OnStreamEnded(ProxyStream stream, HttpLogEntry entry) => Statuses.Add(entry.Status);
    }

    private sealed class Thrower : IStreamEndObserver
    {
        public void OnStreamEnded(ProxyStream stream, HttpLogEntry entry) => throw new InvalidOperationException("logger down");
    }
}
