namespace PluginProxy.Abstractions.Tables;

/// <summary>One key of a stick table and its counters (HAProxy's <c>sc_*</c> fetches). Counters are updated atomically.</summary>
public interface IStickEntry
{
    /// <summary>The key.</summary>
    string Key { get; }

    /// <summary>Requests counted over the table's rate period, up to now (<c>http_req_rate</c>).</summary>
    double RequestRate { get; }

    /// <summary>Requests counted since the entry was created (<c>http_req_cnt</c>).</summary>
    long Requests { get; }

    /// <summary>Connections of this key open now (<c>conn_cur</c>).</summary>
    int Connections { get; }

    /// <summary>Error answers (4xx from the proxy or 5xx) over the rate period (<c>http_err_rate</c>).</summary>
    double ErrorRate { get; }

    /// <summary>Error answers since the entry was created (<c>http_err_cnt</c>).</summary>
    long Errors { get; }

    /// <summary>The server this key sticks to, as <c>backend/server</c>, or null.</summary>
    string? Server { get; set; }

    /// <summary>Counts a request (its rate and total).</summary>
    void CountRequest();

    /// <summary>Counts an error answer.</summary>
    void CountError();

    /// <summary>A connection of this key opened (+1) or closed (-1).</summary>
    void AddConnections(int delta);
}
