using System.Net.Security;
using System.Net.Sockets;

namespace PluginProxy.Abstractions;

/// <summary>
/// What a parked TLS connection keeps of its session (<see cref="TlsTransport.TryDetach"/>): the TLS stream and the
/// <see cref="SocketStream"/> under it, without a socket, until the connection is resumed over a new one or closed.
/// </summary>
internal sealed class DetachedTls(SocketStream inner, SslStream stream, TlsInfo tls)
{
    /// <summary>The session over <paramref name="socket"/>, the new socket of the resumed connection.</summary>
    public TlsTransport Resume(Socket socket)
    {
        inner.Attach(socket);
        return new TlsTransport(inner, stream, tls);
    }

    /// <summary>
    /// Once nothing runs on the session any more: lets go of the old socket and gives back OpenSSL's memory buffers
    /// (<see cref="OpenSslBuffers.ReleaseIdleBios"/>).
    /// </summary>
    public void Trim()
    {
        inner.Clear();
        OpenSslBuffers.ReleaseIdleBios(stream);
    }

    /// <summary>Ends the session of a connection closed while parked.</summary>
    public void Dispose() => stream.Dispose();
}
