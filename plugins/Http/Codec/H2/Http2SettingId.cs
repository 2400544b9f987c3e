namespace PluginProxy.Http.Codec.H2;

/// <summary>The setting identifiers defined by RFC 9113 §6.5.2. Unknown identifiers are ignored by the receiver.</summary>
internal enum Http2SettingId : ushort
{
    /// <summary>SETTINGS_HEADER_TABLE_SIZE: the largest HPACK dynamic table the sender's decoder accepts (default 4096).</summary>
    HeaderTableSize = 0x1,

    /// <summary>SETTINGS_ENABLE_PUSH: 0 or 1 (default 1); a server never sends it as 1.</summary>
    EnablePush = 0x2,

    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS: how many streams the sender lets its peer open (default unlimited).</summary>
    MaxConcurrentStreams = 0x3,

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE: the initial stream flow-control window (default 65535, at most 2^31-1).</summary>
    InitialWindowSize = 0x4,

    /// <summary>SETTINGS_MAX_FRAME_SIZE: the largest frame payload the sender accepts (16384 to 16777215, default 16384).</summary>
    MaxFrameSize = 0x5,

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE: advisory largest field section the sender accepts (default unlimited).</summary>
    MaxHeaderListSize = 0x6,
}
