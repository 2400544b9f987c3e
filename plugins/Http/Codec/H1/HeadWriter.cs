using System.Text;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Http.Codec.H1;

/// <summary>
/// Writes the heads the proxy forwards: the request as the server should see it, the response as the client should.
/// Fields are copied as received (or as analyzers changed them); connection-specific ("hop-by-hop") fields are dropped,
/// including those the Connection field names, and the proxy's own are added.
/// </summary>
internal static class HeadWriter
{
    /// <summary>What the request head gains on its way to the server.</summary>
    /// <param name="ChunkBody">True to announce chunked coding (an HTTP/2 request body of unknown length).</param>
    internal readonly record struct RequestOptions(bool ForwardFor, byte[] ClientAddress, bool Tls, bool Upgrade, bool ChunkBody = false);

    public static void WriteRequest(OutputBuffer output, HttpRequestHead request, RequestFacts facts, byte[] head, in RequestOptions options)
    {
        output.Write(request.RawMethod);
        output.Write((byte)' ');
        if (request.TargetChanged)
        {
            output.WriteLatin1(request.Path);
            output.WriteLatin1(request.Query);
        }
        else
        {
            output.Write(request.RawTarget);
        }

        // An HTTP/2 request goes to the server as HTTP/1.1.
        output.Write(request.Version == HttpProtocol.Http10 ? " HTTP/1.0\r\n"u8 : " HTTP/1.1\r\n"u8);
        HttpHeaders headers = request.Headers;
        bool anyForwardedFor = false;
        for (int i = 0; i < headers.EntryCount; i++)
        {
            if (headers.IsRemoved(i))
            {
                continue;
            }

            if (headers.IsReceived(i))
            {
                ReadOnlySpan<byte> name = headers.RawName(i);
                if (IsHopByHop(name, facts, head, keepUpgrade: options.Upgrade) || (options.ForwardFor && IsForwardedHeader(name, ref anyForwardedFor)))
                {
                    continue;
                }

                output.WriteHeader(name, headers.RawValue(i));
            }
            else
            {
                string name = headers.NameAt(i);
                if (options.ForwardFor && IsForwardedHeader(name, ref anyForwardedFor))
                {
                    continue;
                }

                output.WriteLatin1(name);
                output.Write(": "u8);
                output.WriteLatin1(headers.ValueAt(i));
                output.Write("\r\n"u8);
            }
        }

        if (options.Upgrade)
        {
            output.Write("Connection: upgrade\r\n"u8);
        }

        if (options.ChunkBody)
        {
            output.Write("Transfer-Encoding: chunked\r\n"u8);
        }

        if (options.ForwardFor)
        {
            WriteForwardedFor(output, headers, options.ClientAddress, anyForwardedFor);
            output.Write(options.Tls ? "X-Forwarded-Proto: https\r\n"u8 : "X-Forwarded-Proto: http\r\n"u8);
            int host = headers.IndexOf("Host"u8);
            if (host >= 0)
            {
                output.Write("X-Forwarded-Host: "u8);
                if (headers.IsReceived(host))
                {
                    output.Write(headers.RawValue(host));
                }
                else
                {
                    output.WriteLatin1(headers.ValueAt(host));
                }

                output.Write("\r\n"u8);
            }
        }

        output.Write("\r\n"u8);
    }

    /// <summary>
    /// The request of a health check: <c>GET</c> of <paramref name="path"/> without a body, with Host, User-Agent and
    /// <c>Connection: close</c> (the connection serves this one request). The caller checked the values
    /// (<see cref="Checks.HttpHealthProbe.Refuse"/>).
    /// </summary>
    public static void WriteCheckRequest(OutputBuffer output, string path, string host, string userAgent)
    {
        output.Write("GET "u8);
        output.WriteLatin1(path);
        output.Write(" HTTP/1.1\r\nHost: "u8);
        output.WriteLatin1(host);
        output.Write("\r\nUser-Agent: "u8);
        output.WriteLatin1(userAgent);
        output.Write("\r\nConnection: close\r\n\r\n"u8);
    }

    /// <summary>X-Forwarded-For: the values already present, in order, then this client.</summary>
    private static void WriteForwardedFor(OutputBuffer output, HttpHeaders headers, byte[] client, bool anyExisting)
    {
        output.Write("X-Forwarded-For: "u8);
        if (anyExisting)
        {
            for (int i = headers.IndexOf("X-Forwarded-For"u8); i >= 0; i = headers.IndexOf("X-Forwarded-For"u8, i + 1))
            {
                if (headers.IsReceived(i))
                {
                    output.Write(headers.RawValue(i));
                }
                else
                {
                    output.WriteLatin1(headers.ValueAt(i));
                }

                output.Write(", "u8);
            }
        }

        output.Write(client);
        output.Write("\r\n"u8);
    }

    private static bool IsForwardedHeader(string name, ref bool anyForwardedFor)
    {
        if (name.Equals("X-Forwarded-For", StringComparison.OrdinalIgnoreCase))
        {
            anyForwardedFor = true;
            return true;
        }

        return name.Equals("X-Forwarded-Proto", StringComparison.OrdinalIgnoreCase) || name.Equals("X-Forwarded-Host", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsForwardedHeader(ReadOnlySpan<byte> name, ref bool anyForwardedFor)
    {
        if (name.Length == 15 && Ascii.EqualsIgnoreCase(name, "X-Forwarded-For"u8))
        {
            anyForwardedFor = true;
            return true;
        }

        return (name.Length == 17 && Ascii.EqualsIgnoreCase(name, "X-Forwarded-Proto"u8))
            || (name.Length == 16 && Ascii.EqualsIgnoreCase(name, "X-Forwarded-Host"u8));
    }

    /// <summary>How the response head reaches the client.</summary>
    /// <param name="ChunkBody">True to announce chunked coding of the proxy's own (a filtered body, whose length is unknown).</param>
    internal readonly record struct ResponseOptions(bool CloseClient, bool ClientIsHttp10, bool Dechunk, bool Switching, bool ChunkBody = false);

    public static void WriteResponse(OutputBuffer output, HttpResponseHead response, ResponseFacts facts, byte[] head, in ResponseOptions options)
    {
        output.Write("HTTP/1.1 "u8);
        output.WriteNumber(response.Status);
        output.Write((byte)' ');
        if (response.StatusChanged)
        {
            output.WriteLatin1(response.Reason.Length > 0 ? response.Reason : ErrorPages.Reason(response.Status));
        }
        else
        {
            output.Write(response.RawReason);
        }

        output.Write("\r\n"u8);
        HttpHeaders headers = response.Headers;
        for (int i = 0; i < headers.EntryCount; i++)
        {
            if (headers.IsRemoved(i))
            {
                continue;
            }

            if (headers.IsReceived(i))
            {
                ReadOnlySpan<byte> name = headers.RawName(i);
                if (IsHopByHop(name, facts, head, keepUpgrade: options.Switching)
                    || (options.Dechunk && name.Length == 17 && Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8)))
                {
                    continue;
                }

                output.WriteHeader(name, headers.RawValue(i));
            }
            else
            {
                output.WriteLatin1(headers.NameAt(i));
                output.Write(": "u8);
                output.WriteLatin1(headers.ValueAt(i));
                output.Write("\r\n"u8);
            }
        }

        if (options.ChunkBody)
        {
            output.Write("Transfer-Encoding: chunked\r\n"u8);
        }

        if (options.Switching)
        {
            output.Write("Connection: upgrade\r\n"u8);
        }
        else if (options.CloseClient)
        {
            output.Write("Connection: close\r\n"u8);
        }
        else if (options.ClientIsHttp10)
        {
            output.Write("Connection: keep-alive\r\n"u8);
        }

        output.Write("\r\n"u8);
    }

    /// <summary>A 1xx interim response, forwarded as received (minus hop-by-hop fields).</summary>
    public static void WriteInterim(OutputBuffer output, ResponseFacts facts, byte[] head)
    {
        output.Write("HTTP/1.1 "u8);
        output.WriteNumber(facts.Status);
        output.Write((byte)' ');
        output.Write(head.AsSpan(facts.Reason));
        output.Write("\r\n"u8);
        for (int i = 0; i < facts.HeaderCount; i++)
        {
            HeaderRange h = facts.Headers[i];
            ReadOnlySpan<byte> name = head.AsSpan(h.NameStart, h.NameLength);
            if (!IsHopByHop(name, facts, head, keepUpgrade: false))
            {
                output.WriteHeader(name, head.AsSpan(h.ValueStart, h.ValueLength));
            }
        }

        output.Write("\r\n"u8);
    }

    /// <summary>Connection-specific fields (RFC 9110 §7.6.1), and any field the Connection field names.</summary>
    private static bool IsHopByHop(ReadOnlySpan<byte> name, HeadFacts facts, byte[] head, bool keepUpgrade)
    {
        switch (name.Length)
        {
            case 2 when Ascii.EqualsIgnoreCase(name, "TE"u8):
            case 10 when Ascii.EqualsIgnoreCase(name, "Connection"u8) || Ascii.EqualsIgnoreCase(name, "Keep-Alive"u8):
            case 16 when Ascii.EqualsIgnoreCase(name, "Proxy-Connection"u8):
                return true;
            case 7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8):
                return !keepUpgrade;
        }

        for (int t = 0; t < facts.ConnectionTokenCount; t++)
        {
            if (Ascii.EqualsIgnoreCase(name, head.AsSpan(facts.ConnectionTokens[t])))
            {
                return true;
            }
        }

        return false;
    }
}
