using System.Buffers;
using System.Net.Sockets;
using PluginProxy.Abstractions;

namespace PluginProxy.Plugins.Shared;

/// <summary>
/// Closes a client connection after a final reply without destroying the reply: closing a socket that still has unread
/// input makes the kernel send a reset, which can reach the client before it read the reply. So the sending half is
/// shut down first, and what the client still sends is read and dropped for a short while (bounded in time and bytes).
/// </summary>
internal static class LingeringClose
{
    private static readonly TimeSpan MaxLinger = TimeSpan.FromSeconds(1);
    private const int MaxDrained = 256 * 1024;

    public static async ValueTask DrainAsync(Transport client)
    {
        Socket socket = client.Socket;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            // TLS: the close_notify goes first; what the client still sends is dropped undecrypted.
            await client.ShutdownSendAsync().ConfigureAwait(false);
            using var timeout = new CancellationTokenSource(MaxLinger);
            int drained = 0;
            while (drained < MaxDrained)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
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
