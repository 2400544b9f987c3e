using System.Buffers;
using System.Text.RegularExpressions;

namespace PluginProxy.Host.Rules;

/// <summary>
/// <c>path_regex</c>: a regular expression found in the normalised path (anchor it with <c>^...$</c> for the whole path).
/// Compiled once, non-backtracking (its time grows linearly with the path, whatever a client sends); matched on the path's
/// characters without making a string.
/// </summary>
internal sealed class PathRegexTest(Regex regex) : RuleTest
{
    private const int StackLimit = 512;

    public override bool Holds(in RuleInput input)
    {
        if (input.Request is not { } request)
        {
            return false;
        }

        MessageText.Path(request, out ReadOnlySpan<byte> raw, out string? changed);
        if (changed is not null)
        {
            return regex.IsMatch(changed);
        }

        if (raw.Length <= StackLimit)
        {
            Span<char> text = stackalloc char[raw.Length];
            Widen(raw, text);
            return regex.IsMatch(text);
        }

        char[] rented = ArrayPool<char>.Shared.Rent(raw.Length);
        try
        {
            Span<char> text = rented.AsSpan(0, raw.Length);
            Widen(raw, text);
            return regex.IsMatch(text);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    private static void Widen(ReadOnlySpan<byte> bytes, Span<char> chars)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            chars[i] = (char)bytes[i];
        }
    }
}
