using System.Globalization;

namespace PluginProxy.Host.Configuration;

/// <summary>Parses the duration and size notations of proxy.toml.</summary>
internal static class Units
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
    public static string Format(TimeSpan duration) =>
        duration.TotalMilliseconds % 1000 != 0 ? $"{duration.TotalMilliseconds:0}ms"
        : duration.TotalSeconds % 3600 == 0 ? $"{duration.TotalHours:0}h"
        : duration.TotalSeconds % 60 == 0 ? $"{duration.TotalMinutes:0}m"
        : $"{duration.TotalSeconds:0}s";
}
