using System.Buffers;
using System.IO.Pipelines;
using PluginProxy.Abstractions;

namespace PluginProxy.TestKit;

/// <summary>
/// One end of a connection in memory: what one end sends, the other receives. Made in pairs by <see cref="CreatePair"/>;
/// a supervisor reads and writes one end as it would a socket, the test the other. No socket is involved
/// (<see cref="Transport.HasSocket"/> is false).
/// </summary>
public sealed class InMemoryTransport : Transport
{
    private static readonly PipeOptions Unbounded = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Lock _writeGate = new();
    private bool _outputDone;
    private volatile bool _receiveShut;
    private volatile bool _disposed;

    private InMemoryTransport(PipeReader input, PipeWriter output)
    {
        _input = input;
        _output = output;
    }

    /// <summary>Makes a connected pair: bytes sent on one end are received on the other.</summary>
    public static (InMemoryTransport A, InMemoryTransport B) CreatePair()
    {
        var aToB = new Pipe(Unbounded);
        var bToA = new Pipe(Unbounded);
        return (new InMemoryTransport(bToA.Reader, aToB.Writer), new InMemoryTransport(aToB.Reader, bToA.Writer));
    }

    /// <summary>True once this end was disposed.</summary>
    public bool IsDisposed => _disposed;

    /// <inheritdoc/>
    public override async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (await ReadAsync(cancellationToken).ConfigureAwait(false) is not { } data)
        {
            return 0;
        }

        int n = (int)Math.Min(buffer.Length, data.Length);
        ReadOnlySequence<byte> taken = data.Slice(0, n);
        taken.CopyTo(buffer.Span);
        _input.AdvanceTo(taken.End);
        return n;
    }

    /// <inheritdoc/>
    public override async ValueTask WaitForDataAsync(CancellationToken cancellationToken = default)
    {
        if (await ReadAsync(cancellationToken).ConfigureAwait(false) is { } data)
        {
            _input.AdvanceTo(data.Start, data.Start);
        }
    }

    /// <summary>The bytes waiting (at least one; the caller advances the reader), or null at the end of the stream.</summary>
    private async ValueTask<ReadOnlySequence<byte>?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_receiveShut)
            {
                return null;
            }

            ReadResult result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!result.Buffer.IsEmpty && !_receiveShut)
            {
                return result.Buffer;
            }

            _input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted || _receiveShut)
            {
                return null;
            }
        }
    }

    /// <inheritdoc/>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_writeGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_outputDone)
            {
                throw new IOException("the sending direction of this in-memory connection was shut down");
            }

            // Unbounded pipe: the flush completes at once.
            _output.Write(data.Span);
            _ = _output.FlushAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }

        return default;
    }

    /// <summary>Sends <paramref name="text"/> as ASCII (Latin-1).</summary>
    public ValueTask SendAsync(string text, CancellationToken cancellationToken = default) =>
        SendAsync(System.Text.Encoding.Latin1.GetBytes(text), cancellationToken);

    /// <inheritdoc/>
    public override ValueTask ShutdownSendAsync()
    {
        CompleteOutput();
        return default;
    }

    /// <inheritdoc/>
    public override void ShutdownReceive()
    {
        _receiveShut = true;
        _input.CancelPendingRead();
    }

    /// <summary>Reads until the other end shuts down its sending side or is disposed.</summary>
    public async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken = default)
    {
        var all = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int n;
        while ((n = await ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            all.Write(buffer, 0, n);
        }

        return all.ToArray();
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _input.CancelPendingRead();
        CompleteOutput();
    }

    private void CompleteOutput()
    {
        lock (_writeGate)
        {
            if (!_outputDone)
            {
                _outputDone = true;
                _output.Complete();
            }
        }
    }
}
