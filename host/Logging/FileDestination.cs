namespace PluginProxy.Host.Logging;

/// <summary>
/// A file the traffic log appends to. <see cref="Reopen"/> (on SIGUSR1) opens the path again, so that after logrotate
/// moved the file new lines go to a new one. Each batch is written at the file's current end, so a file truncated
/// under it (logrotate's <c>copytruncate</c>) is not filled with a hole.
/// </summary>
internal sealed class FileDestination : LogDestination
{
    private readonly string _path;
    private FileStream _file;

    public FileDestination(string path)
    {
        _path = path;
        _file = OpenFile(path);
    }

    public override string Name => _path;

    public override void Write(ReadOnlySpan<byte> batch)
    {
        _file.Seek(0, SeekOrigin.End);
        _file.Write(batch);
    }

    public override bool Reopen()
    {
        FileStream next = OpenFile(_path);
        (_file, FileStream previous) = (next, _file);
        previous.Dispose();
        return true;
    }

    public override void Dispose() => _file.Dispose();

    private static FileStream OpenFile(string path) =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
}
