namespace PluginProxy.Abstractions;

/// <summary>
/// What makes a request go again to a server (<c>retry_on</c> in <c>[[backend]]</c>), as a set of flags. Only a request
/// the proxy can send again (an idempotent method whose whole body it holds) is retried after it reached a server.
/// </summary>
[Flags]
public enum RetryConditions
{
    /// <summary>Nothing is retried.</summary>
    None = 0,

    /// <summary><c>connect-failure</c>: the connection to the server was refused, reset, timed out or failed its TLS handshake.</summary>
    ConnectFailure = 1,

    /// <summary><c>empty-response</c>: the server closed or reset the connection without a byte of response.</summary>
    EmptyResponse = 2,

    /// <summary><c>response-timeout</c>: no byte of response within the backend's <c>timeout_server</c>.</summary>
    ResponseTimeout = 4,

    /// <summary><c>502</c>: the server answered 502 Bad Gateway.</summary>
    Status502 = 8,

    /// <summary><c>503</c>: the server answered 503 Service Unavailable.</summary>
    Status503 = 16,

    /// <summary><c>504</c>: the server answered 504 Gateway Timeout.</summary>
    Status504 = 32,

    /// <summary><c>all-5xx</c>: the server answered any 5xx status.</summary>
    All5xx = 64,
}
