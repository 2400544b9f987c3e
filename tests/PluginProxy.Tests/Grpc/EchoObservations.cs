using System.Collections.Concurrent;
using PluginProxy.Tests.Infrastructure;

namespace PluginProxy.Tests.Grpc;

/// <summary>One call as the origin's service saw it: the method, the HTTP protocol and scheme it came over, and its request headers.</summary>
internal sealed record ObservedCall(string Method, string Protocol, string Scheme, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>The client's address and port: which connection the call came on.</summary>
    public string Peer { get; init; } = "";
}

/// <summary>
/// What a <see cref="GrpcOrigin"/>'s <see cref="EchoService"/> observed, for tests to assert on or await with a deadline:
/// every call it received, and for each <c>WaitForCancel</c> call (by its tag) that it started and that it saw the call
/// cancelled (by the client, by the client's deadline, or by the connection going away).
/// </summary>
internal sealed class EchoObservations
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _cancelled = new();

    /// <summary>Every call the service received, in the order they arrived.</summary>
    public ConcurrentQueue<ObservedCall> Calls { get; } = new();

    /// <summary>Completes when the server has started the <c>WaitForCancel</c> call tagged <paramref name="tag"/>; fails after <paramref name="deadline"/>.</summary>
    public Task WaitForStartAsync(string tag, TimeSpan? deadline = null)
        => Signal(_started, tag).Task.WithDeadline($"the server to start the call tagged '{tag}'", deadline);

    /// <summary>Completes when the server has observed the cancellation of the <c>WaitForCancel</c> call tagged <paramref name="tag"/>; fails after <paramref name="deadline"/>.</summary>
    public Task WaitForCancellationAsync(string tag, TimeSpan? deadline = null)
        => Signal(_cancelled, tag).Task.WithDeadline($"the server to observe the cancellation of the call tagged '{tag}'", deadline);

    /// <summary>True once the server has observed the cancellation of the call tagged <paramref name="tag"/>.</summary>
    public bool WasCancelled(string tag) => _cancelled.TryGetValue(tag, out TaskCompletionSource? signal) && signal.Task.IsCompleted;

    internal void Record(ObservedCall call) => Calls.Enqueue(call);

    internal void Started(string tag) => Signal(_started, tag).TrySetResult();

    internal void Cancelled(string tag) => Signal(_cancelled, tag).TrySetResult();

    private static TaskCompletionSource Signal(ConcurrentDictionary<string, TaskCompletionSource> signals, string tag)
        => signals.GetOrAdd(tag, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
