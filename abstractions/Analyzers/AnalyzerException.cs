namespace PluginProxy.Abstractions;

/// <summary>
/// An analyzer failed while handling a stream, and its message already says where and what: a supervisor that catches
/// it reports <see cref="Exception.Message"/> as it is (in the access log's termination detail) instead of wrapping it
/// in its own words. The host throws it for a script that threw, with the script's <c>file:line</c> first in the message
/// and the script's exception as <see cref="Exception.InnerException"/>; a plugin's analyzer may throw it too.
/// </summary>
/// <remarks>
/// Supervisors recognise it by type (<c>ex is AnalyzerException</c>): the SDK's types are shared by the host and every
/// plugin, so the test holds across load contexts.
/// </remarks>
public class AnalyzerException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="analyzer">Describes the analyzer that failed (a script's path, a plugin analyzer's name).</param>
    /// <param name="message">What failed and where, complete (e.g. <c>rules/x.csx:7: InvalidOperationException: ...</c>).</param>
    /// <param name="innerException">What the analyzer threw, if anything.</param>
    public AnalyzerException(string analyzer, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Analyzer = analyzer;
    }

    /// <summary>Describes the analyzer that failed (a script's path, a plugin analyzer's name).</summary>
    public string Analyzer { get; }
}
