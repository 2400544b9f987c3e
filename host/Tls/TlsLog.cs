using Microsoft.Extensions.Logging;

namespace PluginProxy.Host.Tls;

/// <summary>The log lines of listener certificates: event ids 7000–7999 (docs/logging.md).</summary>
internal static partial class TlsLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Error, Message = "Listener {Listener}: certificate refused, the current certificates stay in use: {Error}")]
    public static partial void CertificateRefused(ILogger logger, string listener, string error);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Listener {Listener}: certificate for {Names} reloaded from {Path} (valid until {NotAfter:u}); new handshakes use it")]
    public static partial void CertificateReloaded(ILogger logger, string listener, string names, string path, DateTime notAfter);
}
