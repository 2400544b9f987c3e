using static PluginProxy.Http.Codec.H1.HttpChars;

namespace PluginProxy.Http.Codec.H1;

/// <summary>
/// Follows a chunked body byte by byte (RFC 9112 §7.1) to find where it ends and to refuse anything ambiguous: chunk sizes
/// must be plain hexadecimal (no sign, no <c>0x</c>, no spaces unless an extension follows), chunk data must be followed
/// by CRLF, extensions and trailer fields must hold no control bytes, and every line ends with CRLF.
/// It does not copy: the caller forwards the bytes as they were (or only the data, for an HTTP/1.0 client).
/// </summary>
internal struct ChunkedDecoder
{
    private const int MaxSizeDigits = 16;
    private const int MaxExtensionLength = 4096;
    private const int MaxTrailerLine = 8192;
    private const int MaxTrailerBytes = 32 * 1024;

    private State _state;
    private long _remaining;
    private int _digits;
    private int _lineLength;
    private int _trailerBytes;
    private byte[]? _trailerLine;
    private PluginProxy.Abstractions.Http.HttpHeaders? _trailers;

    private enum State
    {
        Size,
        SizeSpace,
        Extension,
        SizeLf,
        Data,
        DataCr,
        DataLf,
        TrailerLineStart,
        TrailerLine,
        TrailerLineLf,
        EndLf,
        Done,
    }

    /// <summary>True once the last chunk and the trailer section were read.</summary>
    public readonly bool IsDone => _state == State.Done;

    /// <summary>The bytes of chunk data seen so far.</summary>
    public long DataBytes { get; private set; }

    /// <param name="trailers">Where the trailer fields go, as the message's trailers (null: validated, not kept).</param>
    public void Reset(PluginProxy.Abstractions.Http.HttpHeaders? trailers = null)
    {
        this = default;
        _trailers = trailers;
    }

    /// <summary>
    /// Reads <paramref name="input"/> until it is used up, the body ends, or a chunk's data starts or continues:
    /// then <paramref name="data"/> is that data (within the consumed bytes). Call again with the rest.
    /// </summary>
    /// <param name="input">The next bytes of the body.</param>
    /// <param name="consumed">How many bytes of <paramref name="input"/> belong to the body so far.</param>
    /// <param name="data">The chunk data found in the consumed bytes, or an empty range.</param>
    public HttpParseError Advance(ReadOnlySpan<byte> input, out int consumed, out Range data)
    {
        data = default;
        int i = 0;
        while (i < input.Length && _state != State.Done)
        {
            byte b = input[i];
            switch (_state)
            {
                case State.Size:
                    if (HexValue(b) is int digit and >= 0)
                    {
                        if (++_digits > MaxSizeDigits || _remaining > (long.MaxValue >> 4))
                        {
                            consumed = i;
                            return HttpParseError.ChunkSizeOverflow;
                        }

                        _remaining = (_remaining << 4) | (uint)digit;
                    }
                    else if (_digits == 0)
                    {
                        consumed = i;
                        return HttpParseError.ChunkSizeInvalid;
                    }
                    else if (b == CR)
                    {
                        _state = State.SizeLf;
                    }
                    else if (b == (byte)';')
                    {
                        _state = State.Extension;
                    }
                    else if (IsOws(b))
                    {
                        // Whitespace after the size is only allowed before an extension ("BWS ;").
                        _state = State.SizeSpace;
                    }
                    else
                    {
                        consumed = i;
                        return HttpParseError.ChunkSizeInvalid;
                    }

                    i++;
                    break;
                case State.SizeSpace:
                    if (b == (byte)';')
                    {
                        _state = State.Extension;
                    }
                    else if (!IsOws(b))
                    {
                        consumed = i;
                        return HttpParseError.ChunkSizeInvalid;
                    }

                    i++;
                    break;
                case State.Extension:
                    if (b == CR)
                    {
                        _state = State.SizeLf;
                    }
                    else if ((b < 0x20 && b != HTAB) || b == 0x7F || ++_lineLength > MaxExtensionLength)
                    {
                        consumed = i;
                        return HttpParseError.ChunkExtensionInvalid;
                    }

                    i++;
                    break;
                case State.SizeLf:
                    if (b != LF)
                    {
                        consumed = i;
                        return HttpParseError.BareCr;
                    }

                    i++;
                    _lineLength = 0;
                    _digits = 0;
                    if (_remaining == 0)
                    {
                        _state = State.TrailerLineStart;
                    }
                    else
                    {
                        _state = State.Data;
                    }

                    break;
                case State.Data:
                    int take = (int)Math.Min(_remaining, input.Length - i);
                    data = new Range(i, i + take);
                    i += take;
                    _remaining -= take;
                    DataBytes += take;
                    if (_remaining == 0)
                    {
                        _state = State.DataCr;
                    }

                    consumed = i;
                    return HttpParseError.None;
                case State.DataCr:
                    if (b != CR)
                    {
                        consumed = i;
                        return HttpParseError.ChunkDataNotTerminated;
                    }

                    _state = State.DataLf;
                    i++;
                    break;
                case State.DataLf:
                    if (b != LF)
                    {
                        consumed = i;
                        return HttpParseError.ChunkDataNotTerminated;
                    }

                    _state = State.Size;
                    i++;
                    break;
                case State.TrailerLineStart:
                    if (b == CR)
                    {
                        _state = State.EndLf;
                        i++;
                        break;
                    }

                    // The same byte is read again as the first of a trailer field line.
                    _state = State.TrailerLine;
                    _lineLength = 0;
                    break;
                case State.TrailerLine:
                    if (b == CR)
                    {
                        _state = State.TrailerLineLf;
                    }
                    else if (b == LF || _lineLength >= MaxTrailerLine || ++_trailerBytes > MaxTrailerBytes)
                    {
                        consumed = i;
                        return b == LF ? HttpParseError.BareLf : HttpParseError.TrailerInvalid;
                    }
                    else
                    {
                        (_trailerLine ??= new byte[MaxTrailerLine])[_lineLength++] = b;
                    }

                    i++;
                    break;
                case State.TrailerLineLf:
                    if (b != LF)
                    {
                        consumed = i;
                        return HttpParseError.BareCr;
                    }

                    ReadOnlySpan<byte> line = _trailerLine.AsSpan(0, _lineLength);
                    HttpParseError fieldError = HeadParser.ParseFieldLine(line, out int nameLength, out int valueOffset, out int valueLength);
                    if (fieldError != HttpParseError.None)
                    {
                        consumed = i;
                        return HttpParseError.TrailerInvalid;
                    }

                    // Trailers are rare: strings for them cost nothing to the bodies without.
                    _trailers?.Add(System.Text.Encoding.Latin1.GetString(line[..nameLength]), System.Text.Encoding.Latin1.GetString(line.Slice(valueOffset, valueLength)));

                    _state = State.TrailerLineStart;
                    i++;
                    break;
                case State.EndLf:
                    if (b != LF)
                    {
                        consumed = i;
                        return HttpParseError.BareCr;
                    }

                    _state = State.Done;
                    i++;
                    break;
            }
        }

        consumed = i;
        return HttpParseError.None;
    }
}
