using System.Buffers;
using System.Net.Sockets;

namespace PluginProxy.Abstractions;

/// <summary>
/// Closes a client connection after a final reply without destroying the reply: closing a socket that still has unread
/// input makes the kernel send a reset, which can reach the client before it read the reply. So the sending half is
/// shut down first, and what the client still sends is read and dropped for a short while (bounded in time and bytes).
/// Use it after a final reply sent on a connection that is not kept (an error answer, a refused request).
/// </summary>
public static class LingeringClose
{
    private static readonly TimeSpan MaxLinger = TimeSpan.FromSeconds(1);
    private const int MaxDrained = 256 * 1024;

    /// <summary>
    /// Shuts down the sending half of <paramref name="client"/> (after TLS's close_notify), then reads and drops what the
    /// client still sends, for up to 1 s and 256 KiB, or until it closes. Never throws; the caller disposes the transport.
    /// </summary>
    public static async ValueTask DrainAsync(Transport client)
    {
        Socket? socket = client.HasSocket ? client.Socket : null;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            // TLS: the close_notify goes first; what the client still sends is dropped undecrypted.
            await client.ShutdownSendAsync().ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(MaxLinger);
            int drained = 0;
            while (drained < MaxDrained)
            {
                int n = socket is not null
                    ? await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false)
                    : await client.ReceiveAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }

                drained += n;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException or InvalidOperationException)
        {
            // The client reset, went away, or kept talking too long: the socket is closed either way.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
