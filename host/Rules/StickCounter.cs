namespace PluginProxy.Host.Rules;

/// <summary>The stick-table counters a <see cref="CounterTest"/> reads (HAProxy's <c>sc_*</c> fetches).</summary>
internal enum StickCounter
{
    /// <summary><c>http_req_rate</c>: requests over the table's rate period.</summary>
    HttpReqRate,

    /// <summary><c>http_req_cnt</c>: requests since the entry was created.</summary>
    HttpReqCnt,

    /// <summary><c>conn_cur</c>: connections of the key open now.</summary>
    ConnCur,

    /// <summary><c>http_err_rate</c>: error answers over the rate period.</summary>
    HttpErrRate,

    /// <summary><c>http_err_cnt</c>: error answers since the entry was created.</summary>
    HttpErrCnt,
}
