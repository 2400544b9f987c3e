// A whole protocol supervisor written as a script: an echo service. Name it as a listener's supervisor:
//   supervisor = "supervisors/echo.csx"
// Every byte a client sends comes back, until the client closes its side.

using System.Buffers;
using System.Net.Sockets;

return new EchoSupervisor();

sealed class EchoSupervisor : IProtocolSupervisor
{
    public async ValueTask RunAsync(ISession session)
    {
        Socket client = session.Connection.Socket;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await client.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
                session.Log.BytesFromClient += n;
            }

            client.Shutdown(SocketShutdown.Send);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
