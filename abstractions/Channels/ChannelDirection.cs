namespace PluginProxy.Abstractions;

/// <summary>Which direction of a stream a <see cref="Channel"/> carries.</summary>
public enum ChannelDirection
{
    /// <summary>Client to server (the request buffer of the seed notes).</summary>
    Request,

    /// <summary>Server to client (the response buffer).</summary>
    Response,
}
