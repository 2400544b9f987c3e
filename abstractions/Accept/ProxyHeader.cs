using System.Net;

namespace PluginProxy.Abstractions;

/// <summary>
/// What a PROXY protocol header (v1 text or v2 binary) said about the connection it preceded.
/// </summary>
public sealed class ProxyHeader
{
    /// <summary>Creates the facts of one PROXY header.</summary>
    /// <param name="version">1 for the text form, 2 for the binary form.</param>
    /// <param name="isLocal">True for a v2 <c>LOCAL</c> command or a v1 <c>UNKNOWN</c> line: the sender speaks for itself and carries no addresses.</param>
    /// <param name="source">The original client, when the header carries one.</param>
    /// <param name="destination">The original destination, when the header carries one.</param>
    /// <param name="tlvs">The v2 type-length-value extensions, empty when none.</param>
    public ProxyHeader(int version, bool isLocal, IPEndPoint? source, IPEndPoint? destination, IReadOnlyList<ProxyHeaderTlv>? tlvs = null)
    {
        Version = version;
        IsLocal = isLocal;
        Source = source;
        Destination = destination;
        Tlvs = tlvs ?? [];
    }

    /// <summary>1 for the text form, 2 for the binary form.</summary>
    public int Version { get; }

    /// <summary>True when the header carries no addresses (v2 <c>LOCAL</c>, v1 <c>UNKNOWN</c>, or an unspecified family): the peer's own address stands.</summary>
    public bool IsLocal { get; }

    /// <summary>The client the sending proxy accepted, or null when <see cref="IsLocal"/>.</summary>
    public IPEndPoint? Source { get; }

    /// <summary>The address the client connected to at the sending proxy, or null when <see cref="IsLocal"/>.</summary>
    public IPEndPoint? Destination { get; }

    /// <summary>The v2 extensions (type, value) in the order they were sent; empty for v1.</summary>
    public IReadOnlyList<ProxyHeaderTlv> Tlvs { get; }
}

/// <summary>One type-length-value extension of a PROXY protocol v2 header.</summary>
/// <param name="Type">The TLV type byte (for example 0x01 ALPN, 0x02 authority, 0x20 SSL).</param>
/// <param name="Value">The raw value bytes.</param>
public readonly record struct ProxyHeaderTlv(byte Type, ReadOnlyMemory<byte> Value);
