using System.Net;

namespace PluginProxy.Host.Backends;

/// <summary>The hashes consistent hashing places keys and servers with: FNV-1a, then a finalizer that spreads every bit.</summary>
internal static class Hashes
{
    /// <summary>The hash of a key or a server name (UTF-16 code units).</summary>
    public static uint OfString(ReadOnlySpan<char> text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ (byte)c) * 16777619;
            hash = (hash ^ (byte)(c >> 8)) * 16777619;
        }

        return Mix(hash);
    }

    /// <summary>The hash of a client address (an IPv4-mapped IPv6 address hashes as the IPv4 one).</summary>
    public static uint OfAddress(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        IPAddress normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        normalized.TryWriteBytes(bytes, out int written);
        uint hash = 2166136261;
        foreach (byte b in bytes[..written])
        {
            hash = (hash ^ b) * 16777619;
        }

        return Mix(hash);
    }

    /// <summary>A bijective 32-bit finalizer (lowbias32): FNV's low bits are weak for short keys that differ only at the end.</summary>
    public static uint Mix(uint h)
    {
        h ^= h >> 16;
        h *= 0x7feb352d;
        h ^= h >> 15;
        h *= 0x846ca68b;
        h ^= h >> 16;
        return h;
    }
}
