using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace PluginProxy.Abstractions;

/// <summary>
/// Makes OpenSSL give back a TLS connection's record buffers (about 33 KB) while the connection is idle
/// (<c>SSL_MODE_RELEASE_BUFFERS</c>, which HAProxy and nginx set and .NET does not). <see cref="SslStream"/> does not
/// expose its native <c>SSL*</c>, so this reaches it through the runtime's private state, and does so only when every
/// check holds: Linux, the field and handle type found as expected, and the <c>libssl.so.3</c> the runtime already loaded.
/// Anything unexpected turns it off for the process; connections then keep their buffers, as before.
/// </summary>
internal static class OpenSslBuffers
{
    private const int SslCtrlMode = 33;
    private const long SslModeReleaseBuffers = 0x10;

    private static readonly FieldInfo? ContextField = Find();
    private static int _disabled = ContextField is null ? 1 : 0;

    private static FieldInfo? Find()
    {
        try
        {
            if (!OperatingSystem.IsLinux() || !File.ReadAllText("/proc/self/maps").Contains("libssl.so.3", StringComparison.Ordinal))
            {
                return null;
            }

            return typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Sets the mode on an authenticated stream's connection; does nothing when it cannot be done safely.</summary>
    public static void ReleaseWhenIdle(SslStream stream) => Control(stream, SslModeReleaseBuffers);

    /// <summary>The connection's OpenSSL mode bits, or null when they cannot be reached (for tests).</summary>
    internal static long? ModeOf(SslStream stream) => Control(stream, 0);

    /// <summary><c>SSL_ctrl(ssl, SSL_CTRL_MODE, bits)</c>: adds <paramref name="bits"/> and returns the resulting mode.</summary>
    private static long? Control(SslStream stream, long bits)
    {
        if (Volatile.Read(ref _disabled) != 0)
        {
            return null;
        }

        try
        {
            if (ContextField!.GetValue(stream) is not SafeHandle { IsInvalid: false, IsClosed: false } handle
                || handle.GetType().FullName != "Microsoft.Win32.SafeHandles.SafeSslHandle")
            {
                Volatile.Write(ref _disabled, 1);
                return null;
            }

            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                return SslCtrl(handle.DangerousGetHandle(), SslCtrlMode, bits, IntPtr.Zero);
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or FieldAccessException or ObjectDisposedException or InvalidOperationException)
        {
            Volatile.Write(ref _disabled, 1);
            return null;
        }
    }

    // SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg): blittable, so no marshalling and no unsafe code is needed.
    [DllImport("libssl.so.3", EntryPoint = "SSL_ctrl", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern long SslCtrl(IntPtr ssl, int command, long argument, IntPtr pointer);
}
