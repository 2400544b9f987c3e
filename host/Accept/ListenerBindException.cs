namespace PluginProxy.Host.Accept;

/// <summary>A listener could not bind or configure its listening socket; the message names the place in proxy.toml.</summary>
internal sealed class ListenerBindException(string message, Exception? inner = null) : Exception(message, inner);
