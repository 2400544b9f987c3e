using System.Text;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Host.Rules;

/// <summary>
/// Reads the parts of a message that conditions look at without making strings: the received bytes while nothing changed
/// them, else the string an analyzer set (which exists already).
/// </summary>
internal static class MessageText
{
    /// <summary>
    /// The request's normalised path: as received bytes in <paramref name="raw"/> (null <paramref name="changed"/>), or the
    /// path an analyzer or an earlier rule set.
    /// </summary>
    public static void Path(HttpRequestHead request, out ReadOnlySpan<byte> raw, out string? changed)
    {
        if (request.TargetChanged)
        {
            raw = default;
            changed = request.Path;
            return;
        }

        ReadOnlySpan<byte> target = request.RawTarget;
        int question = target.IndexOf((byte)'?');
        raw = question < 0 ? target : target[..question];
        changed = null;
    }

    /// <summary>
    /// The value of field <paramref name="index"/> of <paramref name="headers"/> as bytes when received, else null with
    /// the value in <paramref name="text"/>.
    /// </summary>
    public static bool Value(HttpHeaders headers, int index, out ReadOnlySpan<byte> raw, out string? text)
    {
        if (headers.IsReceived(index))
        {
            raw = headers.RawValue(index);
            text = null;
            return true;
        }

        raw = default;
        text = headers.ValueAt(index);
        return false;
    }

    /// <summary>The request's host without its port (the Host field, which the codec fills from an absolute target or <c>:authority</c>).</summary>
    public static void Host(HttpRequestHead request, out ReadOnlySpan<byte> raw, out string? text)
    {
        int index = request.Headers.IndexOf("Host"u8);
        if (index < 0)
        {
            raw = default;
            text = "";
            return;
        }

        if (Value(request.Headers, index, out raw, out text))
        {
            raw = HttpSyntax.HostWithoutPort(raw);
        }
        else
        {
            text = WithoutPort(text!);
        }
    }

    /// <summary>True when <paramref name="bytes"/> (Latin-1) equal <paramref name="text"/>, ordinal.</summary>
    public static bool Equal(ReadOnlySpan<byte> bytes, ReadOnlySpan<char> text)
    {
        if (bytes.Length != text.Length)
        {
            return false;
        }

        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != text[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The text of <paramref name="bytes"/> (Latin-1), for the rare test that needs a string (a regular expression on a long path).</summary>
    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    private static string WithoutPort(string host)
    {
        if (host.StartsWith('['))
        {
            int close = host.IndexOf(']');
            return close < 0 ? host : host[..(close + 1)];
        }

        int colon = host.LastIndexOf(':');
        return colon < 0 ? host : host[..colon];
    }
}
