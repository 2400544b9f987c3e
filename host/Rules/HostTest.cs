using System.Text;

namespace PluginProxy.Host.Rules;

/// <summary>
/// <c>host</c>: the request's host, without its port, against any of the names, ignoring case; <c>*.example.com</c>
/// matches any subdomain (as routes do).
/// </summary>
internal sealed class HostTest : RuleTest
{
    private readonly byte[][] _exact;
    private readonly byte[][] _suffixes;

    public HostTest(IEnumerable<string> patterns)
    {
        var exact = new List<byte[]>();
        var suffixes = new List<byte[]>();
        foreach (string pattern in patterns)
        {
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                suffixes.Add(Encoding.ASCII.GetBytes(pattern[1..]));
            }
            else
            {
                exact.Add(Encoding.ASCII.GetBytes(pattern));
            }
        }

        _exact = [.. exact];
        _suffixes = [.. suffixes];
    }

    public override bool Holds(in RuleInput input)
    {
        if (input.Request is not { } request)
        {
            return false;
        }

        MessageText.Host(request, out ReadOnlySpan<byte> raw, out string? text);
        return text is null ? Matches(raw) : Matches(text);
    }

    private bool Matches(ReadOnlySpan<byte> host)
    {
        host = host.TrimEnd((byte)'.');
        foreach (byte[] name in _exact)
        {
            if (Ascii.EqualsIgnoreCase(host, name))
            {
                return true;
            }
        }

        foreach (byte[] suffix in _suffixes)
        {
            if (host.Length > suffix.Length && Ascii.EqualsIgnoreCase(host[^suffix.Length..], suffix))
            {
                return true;
            }
        }

        return false;
    }

    private bool Matches(string text)
    {
        ReadOnlySpan<char> host = text.AsSpan().TrimEnd('.');
        foreach (byte[] name in _exact)
        {
            if (Ascii.EqualsIgnoreCase(name, host))
            {
                return true;
            }
        }

        foreach (byte[] suffix in _suffixes)
        {
            if (host.Length > suffix.Length && Ascii.EqualsIgnoreCase(suffix, host[^suffix.Length..]))
            {
                return true;
            }
        }

        return false;
    }
}
