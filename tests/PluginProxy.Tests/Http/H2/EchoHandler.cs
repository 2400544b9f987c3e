using System.Text;
using PluginProxy.Abstractions.Http;
using PluginProxy.Http.Engine.H2;

namespace PluginProxy.Tests.Http.H2;

/// <summary>
/// The trivial handler of the HTTP/2 connection tests: GET answers 200 with "METHOD target scheme authority version";
/// GET /big/N answers N bytes; POST and PUT echo the body (and the trailers); /throw throws.
/// </summary>
internal static class EchoHandler
{
    public static async ValueTask HandleAsync(Http2ServerStream stream)
    {
        HttpRequestHead request = stream.Request;
        if (request.Path == "/throw")
        {
            throw new InvalidOperationException("the handler failed on purpose");
        }

        if (request.Path.StartsWith("/big/", StringComparison.Ordinal))
        {
            byte[] big = new byte[int.Parse(request.Path["/big/".Length..])];
            big.AsSpan().Fill((byte)'x');
            await stream.WriteResponseHeadAsync(200, [new("content-length", big.Length.ToString())], endStream: false, stream.Aborted);
            await stream.WriteDataAsync(big, endStream: true, stream.Aborted);
            return;
        }

        if (request.Method is "POST" or "PUT")
        {
            await stream.WriteResponseHeadAsync(200, [new("content-type", "application/octet-stream")], endStream: false, stream.Aborted);
            byte[] buffer = new byte[4096];
            int n;
            while ((n = await stream.ReadBodyAsync(buffer, stream.Aborted)) > 0)
            {
                await stream.WriteDataAsync(buffer.AsMemory(0, n), endStream: false, stream.Aborted);
            }

            if (stream.RequestTrailers is { Count: > 0 } trailers)
            {
                await stream.WriteTrailersAsync(trailers, stream.Aborted);
            }
            else
            {
                await stream.WriteDataAsync(ReadOnlyMemory<byte>.Empty, endStream: true, stream.Aborted);
            }

            return;
        }

        string text = $"{request.Method} {request.Target} {request.Scheme} {request.Authority} {request.Version}";
        byte[] body = Encoding.ASCII.GetBytes(text);
        await stream.WriteResponseHeadAsync(200, [new("content-type", "text/plain"), new("Connection", "close")], endStream: false, stream.Aborted);
        await stream.WriteDataAsync(body, endStream: true, stream.Aborted);
    }
}
