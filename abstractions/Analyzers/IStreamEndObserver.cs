using PluginProxy.Abstractions.Http;

namespace PluginProxy.Abstractions;

/// <summary>
/// Told once when a stream ended, with its log entry. Registered on the stream by an analyzer with
/// <see cref="ProxyStream.OnEnded"/> (the adapter of an <see cref="IHttpLogger"/> does that); the HTTP supervisor calls
/// <see cref="ProxyStream.NotifyEnded"/> after it wrote the stream's access-log line.
/// </summary>
public interface IStreamEndObserver
{
    /// <summary>The stream ended. Called on the connection's thread: never block.</summary>
    /// <param name="stream">The stream, still holding its heads and variables (valid during this call only).</param>
    /// <param name="entry">What the access log records about it.</param>
    void OnStreamEnded(ProxyStream stream, HttpLogEntry entry);
}
