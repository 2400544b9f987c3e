using PluginProxy.Abstractions;
using PluginProxy.TestKit;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// The server's end of an in-memory pair whose sends the test paces, as a client that reads slowly (or not at all) would:
/// once <see cref="Pause"/> was called, each send waits for one <see cref="Allow"/>. Disposing it (or cancelling the
/// send's token) fails the waiting send, as closing a socket does.
/// </summary>
internal sealed class PacedTransport(InMemoryTransport inner) : Transport
{
    private readonly SemaphoreSlim _permits = new(0);
    private readonly CancellationTokenSource _disposed = new();
    private volatile bool _paused;
    private int _waiting;
    private int _sent;

    /// <summary>Sends waiting for a permit now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Sends that got through since the start.</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => _disposed.IsCancellationRequested;

    /// <summary>From now on, every send waits for a permit.</summary>
    public void Pause() => _paused = true;

    /// <summary>Lets every send through again, those waiting included.</summary>
    public void Resume()
    {
        _paused = false;
        _permits.Release(1000);
    }

    /// <summary>Lets one waiting (or the next) send through.</summary>
    public void Allow() => _permits.Release();

    /// <inheritdoc/>
    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReceiveAsync(buffer, cancellationToken);

    /// <inheritdoc/>
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (_paused)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
            Interlocked.Increment(ref _waiting);
            try
            {
                await _permits.WaitAsync(both.Token);
            }
            catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
            {
                throw new ObjectDisposedException(nameof(PacedTransport));
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        await inner.SendAsync(data, cancellationToken);
        Interlocked.Increment(ref _sent);
    }

    /// <inheritdoc/>
    public override ValueTask WaitForDataAsync(CancellationToken cancellationToken = default) => inner.WaitForDataAsync(cancellationToken);

    /// <inheritdoc/>
    public override ValueTask ShutdownSendAsync() => inner.ShutdownSendAsync();

    /// <inheritdoc/>
    public override void Dispose()
    {
        _disposed.Cancel();
        inner.Dispose();
    }
}
