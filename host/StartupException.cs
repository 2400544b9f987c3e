namespace PluginProxy.Host;

/// <summary>The proxy cannot start (or a configuration cannot be used): every problem found, one line each.</summary>
internal sealed class StartupException(IReadOnlyList<string> problems)
    : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
