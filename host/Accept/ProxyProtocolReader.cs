using System.Buffers;
using System.Net.Sockets;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Accept;

/// <summary>
/// Reads a PROXY header off a freshly accepted socket, consuming exactly the header's bytes and nothing after it,
/// so the supervisor later reads the client's own first byte. It peeks at what arrived, and consumes only bytes known
/// to belong to the header: usually one peek and one read.
/// </summary>
internal static class ProxyProtocolReader
{
    /// <exception cref="ProxyProtocolException">The header is missing, malformed, truncated or too large.</exception>
    /// <exception cref="OperationCanceledException">The deadline passed.</exception>
    public static async ValueTask<ProxyHeader> ReadAsync(Socket socket, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(512);
        try
        {
            int have = 0;
            while (true)
            {
                if (have == buffer.Length)
                {
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, ProxyProtocolParser.MaxV2Length));
                    buffer.AsSpan(0, have).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                int window = Math.Min(buffer.Length, ProxyProtocolParser.MaxV2Length) - have;
                int peeked = await socket.ReceiveAsync(buffer.AsMemory(have, window), SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
                if (peeked == 0)
                {
                    throw new ProxyProtocolException(have == 0
                        ? "the connection closed before sending its PROXY header"
                        : "the connection closed in the middle of its PROXY header");
                }

                ProxyParseStatus status = ProxyProtocolParser.TryParse(buffer.AsSpan(0, have + peeked), out ProxyHeader? header, out int consumed, out string? error);
                switch (status)
                {
                    case ProxyParseStatus.Done:
                        await ConsumeAsync(socket, buffer, have, consumed - have, cancellationToken).ConfigureAwait(false);
                        return header!;
                    case ProxyParseStatus.NeedMore:
                        // Every byte seen so far belongs to the header: consume them so that the next peek waits for new data.
                        await ConsumeAsync(socket, buffer, have, peeked, cancellationToken).ConfigureAwait(false);
                        have += peeked;
                        break;
                    default:
                        throw new ProxyProtocolException(error!);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask ConsumeAsync(Socket socket, byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(offset, count), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new ProxyProtocolException("the connection closed in the middle of its PROXY header");
            }

            offset += n;
            count -= n;
        }
    }
}

/// <summary>A PROXY header that is missing or malformed.</summary>
internal sealed class ProxyProtocolException(string message) : Exception(message);
