namespace PluginProxy.Host.Scripting;

/// <summary>A script threw while handling a stream; the message names the script's file and line.</summary>
internal sealed class ScriptException(string message, Exception inner) : Exception(message, inner);
