using System.Diagnostics;
using System.Text.Json;
using StackExchange.Redis;

namespace PluginProxy.Host.Stores;

/// <summary>
/// The exchanges with a Redis server: one loop per store, one pipelined batch per <see cref="SharedStore.SyncInterval"/>.
/// A counter's window is a Redis integer (<c>INCRBY</c> with what this instance counted since the last batch, zero to
/// learn the others' counts) that expires two windows after it began; a shared value is a string with its own expiry,
/// also published on the store's channel so the other instances learn it without polling. StackExchange.Redis keeps the
/// connection, reconnecting in the background; commands fail at once while it is down (no backlog), so a batch never
/// waits longer than <c>timeout</c>.
/// </summary>
internal sealed partial class SharedStore
{
    /// <summary>Names this instance in what it publishes (its own messages come back to it and are skipped).</summary>
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private ConnectionMultiplexer? _redis;
    private bool _subscribed;
    private bool _loadValues = true;

    private RedisChannel ValuesChannel => RedisChannel.Literal(Prefix + "values");

    /// <summary>Starts the exchange loop; the first connection is made by the loop, so the proxy starts without waiting for it.</summary>
    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    private async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(SyncInterval, _clock);
        try
        {
            do
            {
                await ExchangeOnceAsync().ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>One exchange: connect if needed, send every count and value, take the answers. Never throws.</summary>
    internal async Task ExchangeOnceAsync()
    {
        long now = Now;
        try
        {
            ConnectionMultiplexer redis = _redis ??= await ConnectAsync().ConfigureAwait(false);
            if (!redis.IsConnected)
            {
                Failed("not connected");
                return;
            }

            if (!_subscribed)
            {
                await redis.GetSubscriber().SubscribeAsync(ValuesChannel, (_, message) => Receive(message)).WaitAsync(Config.Timeout).ConfigureAwait(false);
                _subscribed = true;
            }

            if (_loadValues)
            {
                await LoadValuesAsync(redis).ConfigureAwait(false);
                _loadValues = false;
            }

            IDatabase db = redis.GetDatabase();
            if (_status.State != Abstractions.Stores.StoreState.Up)
            {
                // After a failure, a PING first: a server that is still silent (a paused process keeps its connections
                // open) gets no counts it might process later, when they would be sent again.
                await db.PingAsync().WaitAsync(Config.Timeout).ConfigureAwait(false);
            }

            long started = Stopwatch.GetTimestamp();
            await SendAsync(db, now).ConfigureAwait(false);
            LastExchangeDuration = Stopwatch.GetElapsedTime(started);
            Interlocked.Increment(ref _exchanges);
            SetState(Abstractions.Stores.StoreState.Up, null);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException or InvalidOperationException)
        {
            Failed(ex is TimeoutException ? $"no answer within {Configuration.Units.Format(Config.Timeout)}" : ex.Message);
        }

        RetireIdleCounters(now);
    }

    private void Failed(string reason)
    {
        Interlocked.Increment(ref _failedExchanges);
        _loadValues = true; // what the others shared meanwhile is read again once the server answers
        SetState(Abstractions.Stores.StoreState.Down, reason);
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = (int)Config.Timeout.TotalMilliseconds,
            AsyncTimeout = (int)Config.Timeout.TotalMilliseconds,
            SyncTimeout = (int)Config.Timeout.TotalMilliseconds,
            BacklogPolicy = BacklogPolicy.FailFast,
            ReconnectRetryPolicy = new ExponentialRetry(100, 1000),
            HeartbeatInterval = TimeSpan.FromMilliseconds(250),
            ClientName = "pluginproxy",
            Password = Config.Password,
        };
        options.EndPoints.Add(Config.Address);
        return await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
    }

    /// <summary>Sends every counter's counts and the queued values in one batch, then settles each counter with its answer.</summary>
    private async Task SendAsync(IDatabase db, long now)
    {
        IBatch batch = db.CreateBatch();
        var sent = new List<(SharedCounter Counter, SharedCounter.Exchange Exchange, Task<long> Current, Task<long>? Previous)>(_counters.Count);
        long settle = (long)SyncInterval.TotalMilliseconds * 2;
        foreach (SharedCounter counter in _counters.Values)
        {
            long usedSince = now - Math.Max(2 * counter.WindowMs, settle);
            if (!counter.TakeUnsent(now, settle, usedSince, out SharedCounter.Exchange exchange))
            {
                continue;
            }

            RedisKey key = counter.StoreKey + exchange.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Task<long> current = batch.StringIncrementAsync(key, exchange.Delta);
            if (exchange.SetExpiry)
            {
                _ = batch.KeyExpireAsync(key, TimeSpan.FromMilliseconds((3 * counter.WindowMs) + settle), flags: CommandFlags.FireAndForget);
            }

            Task<long>? previous = exchange.PreviousIndex < 0 ? null
                : batch.StringIncrementAsync(counter.StoreKey + exchange.PreviousIndex.ToString(System.Globalization.CultureInfo.InvariantCulture), exchange.PreviousDelta);
            sent.Add((counter, exchange, current, previous));
        }

        List<string>? published = null;
        var values = new List<(string Key, string Value, TimeSpan Ttl)>();
        while (_values.TryDequeue(out (string Key, string Value, TimeSpan Ttl) value))
        {
            values.Add(value);
            _ = batch.StringSetAsync(Prefix + "v:" + value.Key, value.Value, value.Ttl, flags: CommandFlags.FireAndForget);
            (published ??= [_instance]).Add(value.Key);
            published.Add(value.Value);
        }

        if (published is not null)
        {
            _ = batch.PublishAsync(ValuesChannel, JsonSerializer.Serialize(published), CommandFlags.FireAndForget);
        }

        // Last, a PING: answered only once the server has processed everything before it (the values included), and an
        // exchange with nothing to send still finds out whether the server answers (a paused one is seen as down).
        Task<TimeSpan> ping = batch.PingAsync();
        batch.Execute();
        try
        {
            await Task.WhenAll(sent.SelectMany(s => s.Previous is null ? new Task[] { s.Current } : [s.Current, s.Previous]).Append(ping))
                .WaitAsync(Config.Timeout).ConfigureAwait(false);
        }
        catch
        {
            // The values go again with the next exchange: setting one twice does no harm.
            values.ForEach(_values.Enqueue);
            _ = ping.ContinueWith(static t => t.Exception, TaskScheduler.Default); // observed
            throw;
        }
        finally
        {
            // Each counter takes what was answered; what was not counts as unsent again.
            foreach ((SharedCounter counter, SharedCounter.Exchange exchange, Task<long> current, Task<long>? previous) in sent)
            {
                counter.Settle(exchange, Answer(current), previous is null ? null : Answer(previous), MaybeReceived(current));
            }
        }
    }

    /// <summary>False only when the command surely never reached the server (the connection was down when it was sent).</summary>
    private static bool MaybeReceived(Task<long> task) =>
        !task.IsCompletedSuccessfully && !(task.IsFaulted && task.Exception?.InnerException is RedisConnectionException);

    private static long? Answer(Task<long> task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return task.Result;
        }

        if (task.IsFaulted)
        {
            _ = task.Exception; // observed: the batch's failure is reported once, by the exchange
        }

        return null;
    }

    /// <summary>Reads every value the server holds for this store (at start and after the server was unreachable).</summary>
    private async Task LoadValuesAsync(ConnectionMultiplexer redis)
    {
        if (ValueReceived is not { } received)
        {
            return;
        }

        IDatabase db = redis.GetDatabase();
        string prefix = Prefix + "v:";
        foreach (System.Net.EndPoint endPoint in redis.GetEndPoints())
        {
            IServer server = redis.GetServer(endPoint);
            var keys = new List<RedisKey>();
            await foreach (RedisKey key in server.KeysAsync(pattern: EscapeGlob(prefix) + "*", pageSize: 1000).ConfigureAwait(false))
            {
                keys.Add(key);
            }

            for (int i = 0; i < keys.Count; i += 1000)
            {
                RedisKey[] page = keys.Skip(i).Take(1000).ToArray();
                RedisValue[] values = await db.StringGetAsync(page).WaitAsync(Config.Timeout).ConfigureAwait(false);
                for (int j = 0; j < page.Length; j++)
                {
                    if (values[j].HasValue)
                    {
                        received(((string)page[j]!)[prefix.Length..], values[j]!);
                    }
                }
            }
        }
    }

    private static string EscapeGlob(string text) =>
        text.Replace("\\", "\\\\").Replace("*", "\\*").Replace("?", "\\?").Replace("[", "\\[").Replace("]", "\\]");

    /// <summary>A message of the store's channel: [instance, key, value, key, value, ...]; this instance's own are skipped.</summary>
    private void Receive(RedisValue message)
    {
        if (ValueReceived is not { } received)
        {
            return;
        }

        string[]? fields;
        try
        {
            fields = JsonSerializer.Deserialize<string[]>((string)message!);
        }
        catch (JsonException ex)
        {
            StoreLog.BadMessage(_log, Name, ex.Message);
            return;
        }

        if (fields is null || fields.Length < 1 || fields[0] == _instance)
        {
            return;
        }

        for (int i = 1; i + 1 < fields.Length; i += 2)
        {
            received(fields[i], fields[i + 1]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (_redis is not null)
        {
            await _redis.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            _redis.Dispose();
        }

        _stop.Dispose();
    }
}
