namespace PluginProxy.Host.Configuration;

/// <summary>A place in a configuration or script file, 1-based, printed as <c>file:line:column</c>.</summary>
internal readonly record struct SourceSpot(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";

    public Abstractions.Options.OptionSpot ToOption() => new(File, Line, Column);

    public static SourceSpot From(Abstractions.Options.OptionSpot spot) => new(spot.File, spot.Line, spot.Column);
}
