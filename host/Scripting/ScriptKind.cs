namespace PluginProxy.Host.Scripting;

/// <summary>What a script is, decided from its body.</summary>
internal enum ScriptKind
{
    /// <summary>A rule: its body runs once per request or response (the common case).</summary>
    Rule,

    /// <summary>A script that ends by returning an object: a flow analyzer or a protocol supervisor, built once at load.</summary>
    Factory,
}
