using PluginProxy.Abstractions;
using Xunit;

namespace PluginProxy.Tests.Analyzers;

/// <summary>The SDK's analyzer chain runner against the contract in IFlowAnalyzer and AnalyzerAction, without sockets.</summary>
public sealed class AnalyzerChainTests
{
    private readonly Channel _request = new(ChannelDirection.Request, 1024);
    private readonly ProxyStream _stream;

    public AnalyzerChainTests()
    {
        // The chain hands the stream to the analyzers and never looks at its session.
        _stream = new ProxyStream(null!, _request, new Channel(ChannelDirection.Response, 1024));
    }

    [Fact]
    public void Channel_IsHeldWhileAnalyzersRun_AndReleasedWhenAllAreDone()
    {
        bool heldDuringCall = false;
        var chain = Chain(new Scripted(_ => { heldDuringCall = _request.IsHeld; return AnalyzerVerdict.Continue; }));

        chain.Begin(_request);
        Assert.True(_request.IsHeld);
        Assert.Equal(ChainStep.Released, chain.Run(default));

        Assert.True(heldDuringCall);
        Assert.False(_request.IsHeld);
        Assert.True(chain.IsReleased);
    }

    [Fact]
    public void AnAnalyzerThatIsDone_IsNotCalledAgain_WhileALaterOneWaitsForData()
    {
        var first = new Scripted(_ => AnalyzerVerdict.Continue);
        int secondCalls = 0;
        var second = new Scripted(_ => ++secondCalls < 3 ? AnalyzerVerdict.NeedMoreData : AnalyzerVerdict.Continue);
        var chain = Chain(first, second);

        chain.Begin(_request);
        Assert.Equal(ChainStep.NeedMore, chain.Run(default));
        Assert.Same(second, chain.Current);
        Assert.True(_request.IsHeld);
        Assert.Equal(ChainStep.NeedMore, chain.Run(default));
        Assert.Equal(ChainStep.Released, chain.Run(default));

        Assert.Equal(1, first.Calls);
        Assert.Equal(3, second.Calls);
    }

    [Fact]
    public void Bypass_SkipsTheAnalyzerForTheRestOfTheStream_NotForTheNextStream()
    {
        var bypassing = new Scripted(_ => AnalyzerVerdict.Bypass);
        var other = new Scripted(_ => AnalyzerVerdict.Continue);
        var chain = Chain(bypassing, other);

        chain.Begin(_request);
        Assert.Equal(ChainStep.Released, chain.Run(default));
        // A second message of the same stream (say, the response after an interim one): still bypassed.
        chain.Begin(_request);
        Assert.Equal(ChainStep.Released, chain.Run(default));
        Assert.Equal(1, bypassing.Calls);
        Assert.Equal(2, other.Calls);

        chain.BeginStream([bypassing, other], _stream);
        chain.Begin(_request);
        Assert.Equal(ChainStep.Released, chain.Run(default));
        Assert.Equal(2, bypassing.Calls);
    }

    [Fact]
    public void Stop_EndsTheChainWithItsReply_AndLaterAnalyzersDoNotRun()
    {
        var reply = new AnalyzerReply(403);
        var later = new Scripted(_ => AnalyzerVerdict.Continue);
        var chain = Chain(new Scripted(_ => AnalyzerVerdict.Stop(reply)), later);

        chain.Begin(_request);
        Assert.Equal(ChainStep.Stopped, chain.Run(default));

        Assert.Same(reply, chain.Verdict.Reply);
        Assert.Equal(0, chain.CurrentIndex);
        Assert.Equal(0, later.Calls);
        Assert.True(_request.IsHeld);
    }

    [Fact]
    public void AnAnalyzerThatThrows_FailsTheChain_NamingIt()
    {
        var throwing = new Scripted(_ => throw new InvalidOperationException("boom"));
        var chain = Chain(new Scripted(_ => AnalyzerVerdict.Continue), throwing);

        chain.Begin(_request);
        Assert.Equal(ChainStep.Failed, chain.Run(default));

        Assert.Same(throwing, chain.Current);
        Assert.Equal("boom", Assert.IsType<InvalidOperationException>(chain.Failure).Message);
    }

    [Fact]
    public async Task AnAnalyzerThatWaits_IsPending_ThenTheChainGoesOn()
    {
        var gate = new TaskCompletionSource<AnalyzerVerdict>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = new Scripted(_ => default, () => new ValueTask<AnalyzerVerdict>(gate.Task));
        var after = new Scripted(_ => AnalyzerVerdict.Continue);
        var chain = Chain(waiting, after);

        chain.Begin(_request);
        Assert.Equal(ChainStep.Pending, chain.Run(default));
        Assert.Equal(0, after.Calls);

        gate.SetResult(AnalyzerVerdict.Continue);
        AnalyzerVerdict verdict = await chain.Pending;
        Assert.Equal(ChainStep.Released, chain.Resume(verdict, default));
        Assert.Equal(1, after.Calls);
    }

    [Fact]
    public async Task RunAsync_AwaitsWaitingAnalyzers_AndReportsOneThatThrowsLate()
    {
        var late = new Scripted(_ => default, async () =>
        {
            await Task.Yield();
            throw new TimeoutException("late");
        });
        var chain = Chain(late);

        chain.Begin(_request);
        Assert.Equal(ChainStep.Failed, await chain.RunAsync(default));
        Assert.IsType<TimeoutException>(chain.Failure);
    }

    [Fact]
    public async Task RunAsync_LetsTheHoldTimeoutThrough_AsACancellation()
    {
        var waitsForever = new Scripted(_ => default, ct => new ValueTask<AnalyzerVerdict>(Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => AnalyzerVerdict.Continue, ct)));
        var chain = Chain(waitsForever);
        using var cts = new CancellationTokenSource();

        chain.Begin(_request);
        ValueTask<ChainStep> run = chain.RunAsync(cts.Token);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await run);
    }

    [Fact]
    public void HoldTimeout_IsTheShortestOfTheRemainingAnalyzers_EachDefaultingToTheListeners()
    {
        var quick = new Scripted(_ => AnalyzerVerdict.Continue) { OwnTimeout = TimeSpan.FromSeconds(2) };
        var plain = new Scripted(_ => AnalyzerVerdict.NeedMoreData);
        var chain = Chain(quick, plain);

        chain.Begin(_request);
        Assert.Equal(TimeSpan.FromSeconds(2), chain.HoldTimeout(TimeSpan.FromSeconds(10)));
        Assert.Equal(ChainStep.NeedMore, chain.Run(default));
        // Only the analyzer still waiting counts now.
        Assert.Equal(TimeSpan.FromSeconds(10), chain.HoldTimeout(TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(4), chain.HoldTimeout(TimeSpan.FromSeconds(10), a => a == plain ? TimeSpan.FromSeconds(4) : null));
        Assert.Null(chain.HoldTimeout(null));
    }

    private AnalyzerChain Chain(params IFlowAnalyzer[] analyzers)
    {
        var chain = new AnalyzerChain();
        chain.BeginStream(analyzers, _stream);
        return chain;
    }

    /// <summary>An analyzer whose verdicts a test scripts; with <c>async</c>, it completes asynchronously.</summary>
    private sealed class Scripted(Func<int, AnalyzerVerdict> verdict, Func<CancellationToken, ValueTask<AnalyzerVerdict>>? async = null) : IFlowAnalyzer
    {
        public Scripted(Func<int, AnalyzerVerdict> verdict, Func<ValueTask<AnalyzerVerdict>> async)
            : this(verdict, _ => async())
        {
        }

        public int Calls { get; private set; }

        public TimeSpan? OwnTimeout { get; init; }

        public TimeSpan? Timeout => OwnTimeout;

        public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
        {
            Calls++;
            return async is null ? new ValueTask<AnalyzerVerdict>(verdict(Calls)) : async(cancellationToken);
        }
    }
}
