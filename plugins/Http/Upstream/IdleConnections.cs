namespace PluginProxy.Http.Upstream;

/// <summary>
/// The idle connections to one server, newest first, as an intrusive list so that a connection the server closed can
/// leave from any place without a search or an allocation. Everything here runs under <see cref="Gate"/>.
/// </summary>
internal sealed class IdleConnections
{
    private PooledConnection? _newest;
    private PooledConnection? _oldest;

    public object Gate { get; } = new();

    public int Count { get; private set; }

    public PooledConnection? Oldest => _oldest;

    public void PushNewest(PooledConnection connection)
    {
        connection.Older = _newest;
        connection.Newer = null;
        if (_newest is not null)
        {
            _newest.Newer = connection;
        }

        _newest = connection;
        _oldest ??= connection;
        Count++;
    }

    public PooledConnection? PopNewest()
    {
        PooledConnection? newest = _newest;
        if (newest is not null)
        {
            Unlink(newest);
        }

        return newest;
    }

    public void Unlink(PooledConnection connection)
    {
        if (connection.Newer is { } newer)
        {
            newer.Older = connection.Older;
        }
        else
        {
            _newest = connection.Older;
        }

        if (connection.Older is { } older)
        {
            older.Newer = connection.Newer;
        }
        else
        {
            _oldest = connection.Newer;
        }

        connection.Newer = null;
        connection.Older = null;
        connection.InList = false;
        Count--;
    }
}
