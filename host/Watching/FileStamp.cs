namespace PluginProxy.Host.Watching;

/// <summary>
/// What a file looks like from outside: whether it exists, its size and last write time, read through symbolic links.
/// Two stamps differ when the file was written, replaced by a rename, removed, or when a link on its path was swapped
/// (as Kubernetes does when it updates a mounted ConfigMap or Secret).
/// </summary>
internal readonly record struct FileStamp(bool Exists, long Length, long LastWriteTicks)
{
    public static FileStamp Of(string path)
    {
        try
        {
            var file = new FileInfo(path);
            if (file.LinkTarget is not null && file.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target)
            {
                file = target;
            }

            return file.Exists ? new FileStamp(true, file.Length, file.LastWriteTimeUtc.Ticks) : default;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Unreadable now (being replaced, a broken link): it counts as gone; the next event looks again.
            return default;
        }
    }
}
