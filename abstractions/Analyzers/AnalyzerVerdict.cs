namespace PluginProxy.Abstractions;

/// <summary>The result of one call of a flow analyzer: an <see cref="AnalyzerAction"/>, and the reply when it stops the stream.</summary>
public readonly struct AnalyzerVerdict
{
    private AnalyzerVerdict(AnalyzerAction action, AnalyzerReply? reply)
    {
        Action = action;
        Reply = reply;
    }

    /// <summary>What the supervisor does next.</summary>
    public AnalyzerAction Action { get; }

    /// <summary>The reply to send when <see cref="Action"/> is <see cref="AnalyzerAction.Stop"/>; null otherwise.</summary>
    public AnalyzerReply? Reply { get; }

    /// <summary>Done with this data; run the next analyzer.</summary>
    public static AnalyzerVerdict Continue => new(AnalyzerAction.Continue, null);

    /// <summary>Call again when more data arrived.</summary>
    public static AnalyzerVerdict NeedMoreData => new(AnalyzerAction.NeedMoreData, null);

    /// <summary>Done, and skip this analyzer for the rest of the stream.</summary>
    public static AnalyzerVerdict Bypass => new(AnalyzerAction.Bypass, null);

    /// <summary>End the stream with <paramref name="reply"/>.</summary>
    public static AnalyzerVerdict Stop(AnalyzerReply reply) => new(AnalyzerAction.Stop, reply ?? throw new ArgumentNullException(nameof(reply)));

    /// <inheritdoc/>
    public override string ToString() => Reply is null ? Action.ToString() : $"{Action} {Reply.Status}";
}
