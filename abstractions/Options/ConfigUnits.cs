using System.Globalization;

namespace PluginProxy.Abstractions.Options;

/// <summary>
/// The duration and size notations of proxy.toml, as the host reads them for its own keys and
/// <see cref="OptionsBinder"/> reads them for a plugin's: one implementation, so a plugin's <c>"5s"</c> and <c>"16k"</c>
/// mean what the host's do.
/// </summary>
public static class ConfigUnits
{
    /// <summary>Parses <c>"250ms"</c>, <c>"5s"</c>, <c>"1.5m"</c>, <c>"1h"</c>, <c>"2d"</c>. A unit is required: a bare number is ambiguous.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration, out string? error)
    {
        duration = default;
        error = null;
        string s = text.Trim();
        int unitStart = 0;
        while (unitStart < s.Length && (char.IsAsciiDigit(s[unitStart]) || s[unitStart] == '.'))
        {
            unitStart++;
        }

        if (unitStart == 0 || !double.TryParse(s.AsSpan(0, unitStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount))
        {
            error = $"\"{text}\" is not a duration; write a number and a unit: \"250ms\", \"5s\", \"2m\", \"1h\"";
            return false;
        }

        double millis;
        switch (s[unitStart..])
        {
            case "ms": millis = amount; break;
            case "s": millis = amount * 1000; break;
            case "m": millis = amount * 60_000; break;
            case "h": millis = amount * 3_600_000; break;
            case "d": millis = amount * 86_400_000; break;
            case "":
                error = $"\"{text}\" has no unit; write \"{text}s\" for seconds or \"{text}ms\" for milliseconds";
                return false;
            default:
                error = $"\"{text}\" has an unknown unit \"{s[unitStart..]}\"; use ms, s, m, h or d";
                return false;
        }

        if (millis > TimeSpan.FromDays(24).TotalMilliseconds)
        {
            error = $"\"{text}\" is too long; the most is 24d";
            return false;
        }

        duration = TimeSpan.FromMilliseconds(millis);
        return true;
    }

    /// <summary>Parses <c>"16k"</c>, <c>"1m"</c>, <c>"2g"</c> (binary multiples, case-insensitive, optional trailing <c>b</c>) or digits.</summary>
    public static bool TryParseSize(string text, out long bytes, out string? error)
    {
        bytes = 0;
        error = null;
        string s = text.Trim().ToLowerInvariant();
        if (s.EndsWith("ib", StringComparison.Ordinal))
        {
            s = s[..^2];
        }
        else if (s.EndsWith('b') && s.Length > 1 && !char.IsAsciiDigit(s[^2]))
        {
            s = s[..^1];
        }

        long multiplier = 1;
        if (s.Length > 0)
        {
            switch (s[^1])
            {
                case 'k': multiplier = 1L << 10; s = s[..^1]; break;
                case 'm': multiplier = 1L << 20; s = s[..^1]; break;
                case 'g': multiplier = 1L << 30; s = s[..^1]; break;
            }
        }

        if (s.Length == 0 || !s.All(char.IsAsciiDigit) || !long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long amount))
        {
            error = $"\"{text}\" is not a size; write bytes as an integer or a string with a unit: \"16k\", \"1m\"";
            return false;
        }

        try
        {
            bytes = checked(amount * multiplier);
        }
        catch (OverflowException)
        {
            error = $"\"{text}\" is too large";
            return false;
        }

        return true;
    }

    /// <summary>Formats a duration the way proxy.toml writes it.</summary>
    public static string FormatDuration(TimeSpan duration) =>
        duration.TotalMilliseconds % 1000 != 0 ? $"{duration.TotalMilliseconds:0}ms"
        : duration.TotalSeconds % 3600 == 0 ? $"{duration.TotalHours:0}h"
        : duration.TotalSeconds % 60 == 0 ? $"{duration.TotalMinutes:0}m"
        : $"{duration.TotalSeconds:0}s";

    /// <summary>The candidate closest to a misspelt <paramref name="key"/>, or null when none is close (used for "did you mean").</summary>
    public static string? Closest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in candidates)
        {
            int d = Distance(key, candidate);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = candidate;
            }
        }

        return bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
