namespace PluginProxy.Host.Plugins;

/// <summary>
/// An object that stays usable while anyone holds a reference, and releases its resources when the last one is dropped.
/// The creator holds the first reference and drops it with <see cref="Retire"/> when the object is superseded.
/// </summary>
internal abstract class RefCounted
{
    private int _count = 1;
    private int _retired;

    /// <summary>Takes a reference; false when the object was already released (the caller must pick the current one again).</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            int count = Volatile.Read(ref _count);
            if (count == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, count + 1, count) == count)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        int count = Interlocked.Decrement(ref _count);
        if (count == 0)
        {
            OnReleased();
        }
        else if (count < 0)
        {
            throw new InvalidOperationException($"{GetType().Name} released more often than acquired.");
        }
    }

    /// <summary>Drops the creator's reference (once); the object is released when the last user releases too.</summary>
    public void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0)
        {
            Release();
        }
    }

    public bool IsRetired => Volatile.Read(ref _retired) == 1;

    /// <summary>The references held right now.</summary>
    public int References => Volatile.Read(ref _count);

    protected abstract void OnReleased();
}
