namespace PluginProxy.Abstractions;

/// <summary>What a flow analyzer asks the supervisor to do next.</summary>
public enum AnalyzerAction
{
    /// <summary>This analyzer is done with the current data: run the next one (or release the channel after the last).</summary>
    Continue,

    /// <summary>Call again when more data has arrived (the channel stays held; its timeout and read limit still apply).</summary>
    NeedMoreData,

    /// <summary>Like <see cref="Continue"/>, and skip this analyzer for the rest of the stream.</summary>
    Bypass,

    /// <summary>End the stream with the analyzer's <see cref="AnalyzerReply"/> (a deny, a redirect, an error); nothing is forwarded.</summary>
    Stop,
}
