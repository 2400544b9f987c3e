using PluginProxy.Abstractions.Options;

namespace PluginProxy.Host.Configuration;

/// <summary>The duration and size notations of proxy.toml: the SDK's <see cref="ConfigUnits"/>, which plugins' options use too.</summary>
internal static class Units
{
    /// <inheritdoc cref="ConfigUnits.TryParseDuration"/>
    public static bool TryParseDuration(string text, out TimeSpan duration, out string? error) => ConfigUnits.TryParseDuration(text, out duration, out error);

    /// <inheritdoc cref="ConfigUnits.TryParseSize"/>
    public static bool TryParseSize(string text, out long bytes, out string? error) => ConfigUnits.TryParseSize(text, out bytes, out error);

    /// <inheritdoc cref="ConfigUnits.FormatDuration"/>
    public static string Format(TimeSpan duration) => ConfigUnits.FormatDuration(duration);
}
