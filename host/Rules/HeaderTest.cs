using System.Text;
using PluginProxy.Abstractions.Http;

namespace PluginProxy.Host.Rules;

/// <summary>
/// <c>header = { name, value | prefix | contains }</c>: some field of that name (case-insensitive) is present, and its
/// value (case-sensitive) is, starts with or holds the text. In request rules the request's fields, in response rules
/// the response's.
/// </summary>
internal sealed class HeaderTest(string name, HeaderMatch match, string text) : RuleTest
{
    private readonly byte[] _name = Encoding.ASCII.GetBytes(name);
    private readonly byte[] _text = Encoding.Latin1.GetBytes(text);

    public override bool Holds(in RuleInput input)
    {
        HttpHeaders headers;
        if (input.ResponseSide)
        {
            headers = input.Http.Response.Headers;
        }
        else if (input.Request is { } request)
        {
            headers = request.Headers;
        }
        else
        {
            return false;
        }

        for (int i = headers.IndexOf(_name); i >= 0; i = headers.IndexOf(_name, i + 1))
        {
            if (match == HeaderMatch.Present)
            {
                return true;
            }

            bool holds = MessageText.Value(headers, i, out ReadOnlySpan<byte> raw, out string? value)
                ? Matches(raw)
                : Matches(value!);
            if (holds)
            {
                return true;
            }
        }

        return false;
    }

    private bool Matches(ReadOnlySpan<byte> value) => match switch
    {
        HeaderMatch.Exact => value.SequenceEqual(_text),
        HeaderMatch.Prefix => value.StartsWith(_text),
        _ => value.IndexOf(_text) >= 0,
    };

    private bool Matches(string value) => match switch
    {
        HeaderMatch.Exact => value == text,
        HeaderMatch.Prefix => value.StartsWith(text, StringComparison.Ordinal),
        _ => value.Contains(text, StringComparison.Ordinal),
    };
}
