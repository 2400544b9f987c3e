using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Host.Backends;
using PluginProxy.Host.Logging;
using PluginProxy.Host.Sessions;

namespace PluginProxy.Host.Accept;

/// <summary>The listener's side of parked connections (<see cref="ParkingLot"/>): handing them over, resuming them, closing them.</summary>
internal sealed partial class Listener
{
    /// <summary>Where this listener's idle connections are parked, or null when the platform cannot park them.</summary>
    internal ParkingLot? Parking => _sessions.Parking;

    /// <summary>True once this listener stopped accepting: nothing is parked for it any more.</summary>
    internal bool StoppedAccepting => _stopAccepting.IsCancellationRequested;

    /// <summary>Idle connections of this listener parked now (each keeps its <c>maxconn</c> slot).</summary>
    public int ParkedSessions => Volatile.Read(ref _parkedSessions);

    /// <summary>Hands a connection whose session ended parked to the parking lot (or closes it, when this listener stopped).</summary>
    internal void Park(ParkedConnection parked)
    {
        Interlocked.Increment(ref _parkedSessions);
        parked.Tls?.Trim(); // no operation runs on the TLS session any more
        if (!Parking!.Add(parked))
        {
            ParkedClosed(parked, SessionTermination.Shutdown);
        }
    }

    /// <summary>
    /// Runs a new session on a parked connection whose client (or, for a join, either side) sent or closed: called by the
    /// parking lot's thread, via the pool.
    /// </summary>
    internal void Resume(ParkedConnection parked)
    {
        ListenerPipeline? pipeline = TryAcquirePipeline();
        if (pipeline is not null && parked.Tls is not null && !pipeline.Supervisor.TerminatesTls)
        {
            // A reload made the listener plain: nothing would continue the connection's TLS session.
            pipeline.Release();
            pipeline = null;
        }

        Socket? client = pipeline is null ? null : Adopt(parked.Fd);
        Socket? server = client is null || parked.ServerFd < 0 ? null : Adopt(parked.ServerFd);
        if (client is null || (parked.ServerFd >= 0 && server is null))
        {
            // The listener stopped, or a connection broke while parked.
            if (client is null)
            {
                ParkingLot.CloseDescriptor(parked.Fd);
            }

            client?.Dispose();
            if (parked.ServerFd >= 0 && server is null)
            {
                ParkingLot.CloseDescriptor(parked.ServerFd);
            }

            pipeline?.Release();
            ParkedClosed(parked, pipeline is null ? SessionTermination.Shutdown : SessionTermination.ClientAborted);
            return;
        }

        Interlocked.Decrement(ref _parkedSessions);
        Interlocked.Increment(ref _activeSessions);
        ServerConnection? joined = server is null ? null : TrackedServerConnection.Resumed(parked.Server!, new SocketTransport(server));
        TlsTransport? tls = parked.Tls?.Resume(client);
        _ = RunAsync(parked.Connection.WithSocket(client), parked.SessionId, pipeline, parked.Log, joined, tls);
    }

    /// <summary>A socket over a parked descriptor, which it then owns; null (and the descriptor still the caller's) when that fails.</summary>
    private static Socket? Adopt(int fd)
    {
        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            return new Socket(handle);
        }
        catch (SocketException)
        {
            handle.SetHandleAsInvalid(); // the caller closes the descriptor
            return null;
        }
    }

    /// <summary>
    /// A parked connection was closed (its client left, its deadline passed, the listener stopped): its slot frees, a
    /// joined server connection leaves its server's counts, and a joined session writes its log line.
    /// </summary>
    internal void ParkedClosed(ParkedConnection parked, SessionTermination why)
    {
        Interlocked.Decrement(ref _parkedSessions);
        parked.Server?.ConnectionClosed(wasIdle: false);
        parked.Tls?.Dispose();
        if (parked.Log is { } log)
        {
            log.TrySetTermination(why, why == SessionTermination.Shutdown ? "closed while parked" : "while parked");
            _sessionLines.SessionEnded(parked.Connection, log, System.Diagnostics.Stopwatch.GetTimestamp());
        }

        _slots.Release();
    }

    /// <summary>The current pipeline with a reference taken, or null when it is retired and no other replaced it (the listener stopped).</summary>
    private ListenerPipeline? TryAcquirePipeline()
    {
        while (true)
        {
            ListenerPipeline pipeline = Volatile.Read(ref _pipeline);
            if (pipeline.TryAcquire())
            {
                return pipeline;
            }

            if (ReferenceEquals(pipeline, Volatile.Read(ref _pipeline)))
            {
                return null;
            }
        }
    }
}
