namespace PluginProxy.Abstractions.Http;

/// <summary>
/// What an <see cref="IHttpRequestFilter"/> or <see cref="IHttpResponseFilter"/> decided: go on (<see cref="Continue"/>),
/// or answer the client with a reply of its own (<see cref="Reply(int, string)"/> and its overloads) instead of what
/// would have been sent.
/// </summary>
public readonly struct FilterResult
{
    private FilterResult(AnalyzerReply? answer) => Answer = answer;

    /// <summary>The reply to send instead; null for <see cref="Continue"/>.</summary>
    public AnalyzerReply? Answer { get; }

    /// <summary>True when the stream goes on (no <see cref="Answer"/>).</summary>
    public bool IsContinue => Answer is null;

    /// <summary>Go on: the next analyzer of the chain runs, and then the request (or response) is forwarded.</summary>
    public static FilterResult Continue => default;

    /// <summary>Answer the client with <paramref name="reply"/>; nothing more is forwarded for this stream.</summary>
    public static FilterResult Reply(AnalyzerReply reply) => new(reply ?? throw new ArgumentNullException(nameof(reply)));

    /// <summary>Answer the client with <paramref name="status"/> and a short text body.</summary>
    public static FilterResult Reply(int status, string text) => new(AnalyzerReply.Text(status, text));

    /// <summary>Answer the client with <paramref name="status"/>, <paramref name="body"/> and <paramref name="headers"/>.</summary>
    /// <param name="status">The HTTP status code (100–599).</param>
    /// <param name="body">The body, or empty.</param>
    /// <param name="headers">Extra headers (Content-Length and Connection are set by the supervisor).</param>
    public static FilterResult Reply(int status, ReadOnlyMemory<byte> body = default, IReadOnlyList<KeyValuePair<string, string>>? headers = null) =>
        new(new AnalyzerReply(status, body, headers));

    /// <summary>The analyzer verdict this result stands for.</summary>
    public AnalyzerVerdict ToVerdict() => Answer is null ? AnalyzerVerdict.Continue : AnalyzerVerdict.Stop(Answer);

    /// <inheritdoc/>
    public override string ToString() => Answer is null ? "Continue" : $"Reply {Answer.Status}";
}
