using System.Net;
using System.Net.Sockets;

namespace PluginProxy.Tests.Infrastructure;

internal static class SocketExtensions
{
    public static async Task<Socket> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint).WithDeadline($"connect to {endPoint}");
        return socket;
    }

    /// <summary>Sends everything.</summary>
    public static async Task SendAllAsync(this Socket socket, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None);
            data = data[n..];
        }
    }

    /// <summary>Reads until the peer half-closes (or the deadline passes), returning every byte received.</summary>
    public static async Task<byte[]> ReadToEndAsync(this Socket socket, TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? Wait.DefaultDeadline);
        var received = new MemoryStream();
        var buffer = new byte[65536];
        while (true)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no end of stream after {received.Length} bytes");
            }

            if (n == 0)
            {
                return received.ToArray();
            }

            received.Write(buffer, 0, n);
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes.</summary>
    public static async Task<byte[]> ReadExactlyAsync(this Socket socket, int count, TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? Wait.DefaultDeadline);
        var result = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(result.AsMemory(filled), SocketFlags.None, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"only {filled} of {count} bytes arrived");
            }

            if (n == 0)
            {
                throw new EndOfStreamException($"connection closed after {filled} of {count} bytes");
            }

            filled += n;
        }

        return result;
    }

    /// <summary>True once the peer closed the connection: a read returns end of stream or a reset.</summary>
    public static async Task<bool> WaitForCloseAsync(this Socket socket, TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? Wait.DefaultDeadline);
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
