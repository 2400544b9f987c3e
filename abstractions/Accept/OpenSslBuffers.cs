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

    private const int BioSetBufMem = 114; // BIO_C_SET_BUF_MEM
    private const long BioClose = 1;
    private static readonly FieldInfo[]? BioFields = FindBios();
    private static int _biosDisabled = BioFields is null ? 1 : 0;

    private static FieldInfo[]? FindBios()
    {
        Type? handle = ContextField is null ? null : typeof(SslStream).Assembly.GetType("Microsoft.Win32.SafeHandles.SafeSslHandle");
        FieldInfo? read = handle?.GetField("_readBio", BindingFlags.Instance | BindingFlags.NonPublic);
        FieldInfo? write = handle?.GetField("_writeBio", BindingFlags.Instance | BindingFlags.NonPublic);
        return read is null || write is null ? null : [read, write];
    }

    /// <summary>
    /// Frees the data buffers of the two memory BIOs through which .NET feeds OpenSSL (each keeps the size of the largest
    /// record or handshake flight it ever held: 1.8 KB per connection after a handshake, 16 KB after a large response),
    /// when both are empty: for a session whose socket is parked, which no operation touches until it is resumed. Each
    /// gets a new empty buffer, allocated again by the next record. Does nothing when the runtime's state is not as expected.
    /// </summary>
    public static void ReleaseIdleBios(SslStream stream)
    {
        if (Volatile.Read(ref _biosDisabled) != 0 || Volatile.Read(ref _disabled) != 0)
        {
            return;
        }

        try
        {
            if (ContextField!.GetValue(stream) is not SafeHandle { IsInvalid: false, IsClosed: false } ssl)
            {
                return;
            }

            foreach (FieldInfo field in BioFields!)
            {
                if (field.GetValue(ssl) is not SafeHandle { IsInvalid: false, IsClosed: false } bio)
                {
                    continue;
                }

                bool added = false;
                try
                {
                    bio.DangerousAddRef(ref added);
                    IntPtr pointer = bio.DangerousGetHandle();
                    if (BioPending(pointer) == 0 && BufMemNew() is var empty && empty != IntPtr.Zero)
                    {
                        BioCtrl(pointer, BioSetBufMem, BioClose, empty);
                    }
                }
                finally
                {
                    if (added)
                    {
                        bio.DangerousRelease();
                    }
                }
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or FieldAccessException or ObjectDisposedException or InvalidOperationException or ArgumentException)
        {
            Volatile.Write(ref _biosDisabled, 1);
        }
    }

    // size_t BIO_ctrl_pending(BIO *b); BUF_MEM *BUF_MEM_new(void); long BIO_ctrl(BIO *bp, int cmd, long larg, void *parg).
    [DllImport("libcrypto.so.3", EntryPoint = "BIO_ctrl_pending", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern nuint BioPending(IntPtr bio);

    [DllImport("libcrypto.so.3", EntryPoint = "BUF_MEM_new", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern IntPtr BufMemNew();

    [DllImport("libcrypto.so.3", EntryPoint = "BIO_ctrl", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern long BioCtrl(IntPtr bio, int command, long argument, IntPtr pointer);

    // SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg): blittable, so no marshalling and no unsafe code is needed.
    [DllImport("libssl.so.3", EntryPoint = "SSL_ctrl", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern long SslCtrl(IntPtr ssl, int command, long argument, IntPtr pointer);
}
