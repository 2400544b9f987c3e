using PluginProxy.Abstractions;

namespace PluginProxy.Http.Codec.H1;

/// <summary>Writes a reply the proxy makes itself (an analyzer's or a script's) as an HTTP/1.1 response.</summary>
internal static class ReplyWriter
{
    public static void Write(OutputBuffer output, AnalyzerReply reply, bool close, bool headRequest)
    {
        output.Start(256 + reply.Body.Length);
        output.Write("HTTP/1.1 "u8);
        output.WriteNumber(reply.Status);
        output.Write((byte)' ');
        output.WriteLatin1(ErrorPages.Reason(reply.Status));
        output.Write("\r\n"u8);
        foreach (KeyValuePair<string, string> header in reply.Headers)
        {
            if (header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || header.Key.Equals("Connection", StringComparison.OrdinalIgnoreCase)
                || header.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            output.WriteLatin1(header.Key);
            output.Write(": "u8);
            output.WriteLatin1(header.Value);
            output.Write("\r\n"u8);
        }

        output.Write("Content-Length: "u8);
        output.WriteNumber(reply.Body.Length);
        output.Write(close ? "\r\nConnection: close\r\n\r\n"u8 : "\r\n\r\n"u8);
        if (!headRequest)
        {
            output.Write(reply.Body.Span);
        }
    }
}
