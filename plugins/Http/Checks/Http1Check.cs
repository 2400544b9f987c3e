using System.Buffers;
using System.Text;
using PluginProxy.Abstractions;
using PluginProxy.Http.Codec;
using PluginProxy.Http.Codec.H1;

namespace PluginProxy.Http.Checks;

/// <summary>
/// A health check over HTTP/1.1: the request written by <see cref="HeadWriter.WriteCheckRequest"/>, the answer's head
/// parsed by <see cref="HeadParser.ParseResponse"/> however the server splits it, interim (1xx) heads skipped. A server
/// whose first bytes cannot begin a status line is refused at once, without waiting for the end of a head.
/// </summary>
internal static class Http1Check
{
    /// <summary>The largest response head read.</summary>
    internal const int MaxHeadSize = 64 * 1024;

    /// <summary>How much of a first line that is not a status line a failure quotes.</summary>
    private const int QuotedLength = 40;

    public static async ValueTask<HealthProbeResult> RunAsync(HealthProbeRequest request, Transport transport, CancellationToken cancellationToken)
    {
        var output = new OutputBuffer();
        try
        {
            output.Start(64 + request.Path.Length + request.Host.Length + request.UserAgent.Length);
            HeadWriter.WriteCheckRequest(output, request.Path, request.Host, request.UserAgent);
            await transport.SendAsync(output.Written, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            output.Release();
        }

        return await ReadStatusAsync(transport, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<HealthProbeResult> ReadStatusAsync(Transport transport, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
        var facts = new ResponseFacts();
        facts.Reset();
        int filled = 0;
        try
        {
            while (true)
            {
                if (Conclude(buffer, ref filled, facts) is { } result)
                {
                    return result;
                }

                int room = Math.Min(buffer.Length, MaxHeadSize);
                if (filled == room)
                {
                    if (room == MaxHeadSize)
                    {
                        return HealthProbeResult.Failed($"invalid HTTP response head: larger than {MaxHeadSize / 1024} KiB");
                    }

                    byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxHeadSize));
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                    room = Math.Min(buffer.Length, MaxHeadSize);
                }

                int n = await transport.ReceiveAsync(buffer.AsMemory(filled, room - filled), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return HealthProbeResult.Failed(filled == 0
                        ? "the server closed the connection without answering"
                        : "the server closed the connection before the end of the response head");
                }

                filled += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The result the bytes received so far settle, or null when more are needed. An interim head is dropped from the
    /// buffer (<paramref name="filled"/> shrinks) and what follows it is looked at.
    /// </summary>
    private static HealthProbeResult? Conclude(byte[] buffer, ref int filled, ResponseFacts facts)
    {
        while (filled > 0)
        {
            ReadOnlySpan<byte> data = buffer.AsSpan(0, filled);
            if (!MayStartStatusLine(data))
            {
                return HealthProbeResult.Failed($"not an HTTP response: {Quote(data)}");
            }

            switch (HeadParser.ParseResponse(data, facts, out HttpParseError error))
            {
                case ParseStatus.Incomplete:
                    return null;
                case ParseStatus.Error:
                    return HealthProbeResult.Failed(error == HttpParseError.StatusLineMalformed
                        ? $"not an HTTP response: malformed status line {Quote(data)}"
                        : $"invalid HTTP response head: {HttpParseErrors.Describe(error)}");
            }

            if (facts.Status >= 200 || facts.Status == 101)
            {
                return HealthProbeResult.Answered(facts.Status);
            }

            // 100 Continue, 103 Early Hints: the final head follows.
            data[facts.HeadLength..].CopyTo(buffer);
            filled -= facts.HeadLength;
            facts.Reset();
        }

        return null;
    }

    /// <summary>False once the bytes cannot be the start of <c>HTTP/1.0</c> or <c>HTTP/1.1</c>.</summary>
    private static bool MayStartStatusLine(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> prefix = "HTTP/1."u8;
        int common = Math.Min(data.Length, prefix.Length);
        return data[..common].SequenceEqual(prefix[..common]) && (data.Length <= prefix.Length || data[prefix.Length] is (byte)'0' or (byte)'1');
    }

    /// <summary>The start of the first line, quoted, with bytes other than visible ASCII and space escaped.</summary>
    private static string Quote(ReadOnlySpan<byte> data)
    {
        int end = data.IndexOfAny((byte)'\r', (byte)'\n');
        ReadOnlySpan<byte> line = end < 0 ? data : data[..end];
        var text = new StringBuilder("\"");
        foreach (byte b in line[..Math.Min(line.Length, QuotedLength)])
        {
            text.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return text.Append(line.Length > QuotedLength ? "...\"" : "\"").ToString();
    }
}
