namespace PluginProxy.Abstractions;

/// <summary>What a run of an <see cref="AnalyzerChain"/> came to.</summary>
public enum ChainStep
{
    /// <summary>Every analyzer is done with the message: the channel is released (<see cref="ChannelFlags.Hold"/> cleared).</summary>
    Released,

    /// <summary>An analyzer stopped the stream: <see cref="AnalyzerChain.Verdict"/> holds its reply. The channel stays held.</summary>
    Stopped,

    /// <summary>An analyzer wants more data: read some into the channel, then call <see cref="AnalyzerChain.Run"/> again.</summary>
    NeedMore,

    /// <summary>
    /// An analyzer did not complete synchronously: await <see cref="AnalyzerChain.Pending"/>, then call
    /// <see cref="AnalyzerChain.Resume"/> with its verdict (or <see cref="AnalyzerChain.Fail"/> with what it threw).
    /// </summary>
    Pending,

    /// <summary>An analyzer threw: <see cref="AnalyzerChain.Failure"/> and <see cref="AnalyzerChain.Current"/> say which and what. Only this stream ends.</summary>
    Failed,
}

/// <summary>
/// Runs a listener's flow analyzers over one channel, as the SDK contract says, for any supervisor: the channel is held
/// (<see cref="ChannelFlags.Hold"/>) from <see cref="Begin"/> until every analyzer is done with the message; an analyzer
/// that is done is not called again for that message, the one that asked for more data is called again when it arrived;
/// <see cref="AnalyzerAction.Bypass"/> skips an analyzer for the rest of the stream (until <see cref="BeginStream"/>);
/// <see cref="AnalyzerAction.Stop"/> ends the stream with its reply; an analyzer that throws ends only its stream.
/// </summary>
/// <remarks>
/// One instance serves one channel of one session, for all its streams; it allocates nothing per message. The chain
/// runs synchronously as long as analyzers complete synchronously, so a supervisor that keeps one long-lived async method
/// per connection awaits only when an analyzer really waits (<see cref="ChainStep.Pending"/>); <see cref="RunAsync"/>
/// does that loop for supervisors that do not count allocations. Reading more data, the read limit and the timeout
/// (<see cref="HoldTimeout"/>) are the supervisor's: it knows its transport and what to answer.
/// </remarks>
public sealed class AnalyzerChain
{
    private IReadOnlyList<IFlowAnalyzer> _analyzers = [];
    private bool[] _bypassed = [];
    private ProxyStream? _stream;
    private Channel? _channel;
    private int _next;

    /// <summary>The analyzers, in order.</summary>
    public IReadOnlyList<IFlowAnalyzer> Analyzers => _analyzers;

    /// <summary>The verdict of the last analyzer called (the reply, after <see cref="ChainStep.Stopped"/>).</summary>
    public AnalyzerVerdict Verdict { get; private set; }

    /// <summary>The analyzer being run: the one that asked for more data, is pending, stopped the stream or threw.</summary>
    public IFlowAnalyzer? Current => _next < _analyzers.Count ? _analyzers[_next] : null;

    /// <summary>The position of <see cref="Current"/> in the chain, from 0.</summary>
    public int CurrentIndex => _next;

    /// <summary>What the analyzer threw, after <see cref="ChainStep.Failed"/>.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The call to await after <see cref="ChainStep.Pending"/>.</summary>
    public ValueTask<AnalyzerVerdict> Pending { get; private set; }

    /// <summary>True once every analyzer released the current message.</summary>
    public bool IsReleased => _channel is null || !_channel.IsHeld;

    /// <summary>
    /// Starts a new stream with <paramref name="analyzers"/> (the listener's current ones: a reload changes the next
    /// stream's chain, never a running one). Forgets which analyzers bypassed.
    /// </summary>
    public void BeginStream(IReadOnlyList<IFlowAnalyzer> analyzers, ProxyStream stream)
    {
        _analyzers = analyzers;
        _stream = stream;
        if (_bypassed.Length < analyzers.Count)
        {
            _bypassed = new bool[analyzers.Count];
        }
        else
        {
            Array.Clear(_bypassed);
        }

        _channel = null;
        _next = 0;
    }

    /// <summary>
    /// Forgets the stream, its channel and analyzers (a supervisor that pools chains between streams calls it, so that a
    /// pooled chain keeps no session, and no unloaded plugin or script, reachable).
    /// </summary>
    public void Clear()
    {
        _analyzers = [];
        _stream = null;
        _channel = null;
        _next = 0;
        Verdict = default;
        Failure = null;
        Pending = default;
    }

    /// <summary>
    /// Starts the analysis of a message on <paramref name="channel"/>: holds it (when any analyzer will run) and starts
    /// again from the first analyzer not bypassed.
    /// </summary>
    public void Begin(Channel channel)
    {
        _channel = channel;
        _next = 0;
        Failure = null;
        Verdict = default;
        Pending = default;
        channel.Flags |= ChannelFlags.Hold;
    }

    /// <summary>
    /// The longest the channel may stay held: the shortest of the remaining analyzers' <see cref="IFlowAnalyzer.Timeout"/>,
    /// each defaulting to <paramref name="fallback"/> (the listener's <c>timeout_request</c>), or to what
    /// <paramref name="timeoutOf"/> says for it when it says something (a supervisor's own knowledge of an analyzer).
    /// Null when nothing limits it.
    /// </summary>
    public TimeSpan? HoldTimeout(TimeSpan? fallback, Func<IFlowAnalyzer, TimeSpan?>? timeoutOf = null)
    {
        TimeSpan? shortest = null;
        for (int i = _next; i < _analyzers.Count; i++)
        {
            if (_bypassed[i])
            {
                continue;
            }

            TimeSpan? own = timeoutOf?.Invoke(_analyzers[i]) ?? _analyzers[i].Timeout ?? fallback;
            if (own is { } t && (shortest is null || t < shortest))
            {
                shortest = t;
            }
        }

        return shortest;
    }

    /// <summary>Runs the analyzers from the current one on, as long as they complete synchronously.</summary>
    public ChainStep Run(CancellationToken cancellationToken)
    {
        Channel channel = _channel ?? throw new InvalidOperationException("Begin was not called for this message");
        for (; _next < _analyzers.Count; _next++)
        {
            if (_bypassed[_next])
            {
                continue;
            }

            ValueTask<AnalyzerVerdict> call;
            try
            {
                call = _analyzers[_next].AnalyzeAsync(_stream!, channel, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return Fail(ex);
            }

            if (!call.IsCompletedSuccessfully)
            {
                Pending = call;
                return ChainStep.Pending;
            }

            if (Apply(call.Result) is { } decided)
            {
                return decided;
            }
        }

        channel.Flags &= ~ChannelFlags.Hold;
        return ChainStep.Released;
    }

    /// <summary>Goes on after the pending analyzer gave <paramref name="verdict"/>.</summary>
    public ChainStep Resume(AnalyzerVerdict verdict, CancellationToken cancellationToken)
    {
        Pending = default;
        if (Apply(verdict) is { } decided)
        {
            return decided;
        }

        _next++;
        return Run(cancellationToken);
    }

    /// <summary>Records that the current analyzer threw <paramref name="exception"/> (synchronously or when awaited).</summary>
    public ChainStep Fail(Exception exception)
    {
        Pending = default;
        Failure = exception;
        return ChainStep.Failed;
    }

    /// <summary>
    /// Runs the chain until it is released, stopped, failed or wants more data, awaiting analyzers that wait. A
    /// cancellation (the hold timeout, the session ending) propagates as <see cref="OperationCanceledException"/>.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ChainStep> RunAsync(CancellationToken cancellationToken)
    {
        ChainStep step = Run(cancellationToken);
        while (step == ChainStep.Pending)
        {
            AnalyzerVerdict verdict;
            try
            {
                verdict = await Pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return Fail(ex);
            }

            step = Resume(verdict, cancellationToken);
        }

        return step;
    }

    /// <summary>What one verdict means for the chain; null to go on with the next analyzer.</summary>
    private ChainStep? Apply(AnalyzerVerdict verdict)
    {
        Verdict = verdict;
        switch (verdict.Action)
        {
            case AnalyzerAction.NeedMoreData:
                return ChainStep.NeedMore;
            case AnalyzerAction.Stop:
                return ChainStep.Stopped;
            case AnalyzerAction.Bypass:
                _bypassed[_next] = true;
                return null;
            default:
                return null;
        }
    }
}
