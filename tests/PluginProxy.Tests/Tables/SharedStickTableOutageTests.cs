using System.Diagnostics;
using PluginProxy.Abstractions.Stores;
using PluginProxy.Tests.Infrastructure;
using static PluginProxy.Tests.Tables.SharedStickTableTests;

namespace PluginProxy.Tests.Tables;

/// <summary>A shared stick table whose store stops answering works locally, and no request waits for the store.</summary>
[Collection(TimingSensitive.Name)]
public class SharedStickTableOutageTests
{
    [SkippableFact]
    public async Task WhileTheStoreIsUnresponsive_TheTableWorksLocally_WithoutWaiting()
    {
        Skip.If(RedisServer.Program is null, RedisServer.Missing);
        await using RedisServer redis = await RedisServer.StartAsync();
        HttpOrigin[] origins = Enumerable.Range(0, 3).Select(i => HttpOrigin.Named($"s{i}")).ToArray();
        try
        {
            await using RunningProxy a = await RunningProxy.StartAsync(Config(redis, $"t{Guid.NewGuid():N}:", origins));
            await Wait.UntilAsync(() => Users(a).Share?.Store.State == StoreState.Up, "the store up");

            // Stopped, not killed: the connection stays open and nothing answers, the worst case for a caller that waited.
            redis.Pause();
            try
            {
                string? server = null;
                for (int i = 0; i < 10; i++)
                {
                    if (i == 5)
                    {
                        // The first requests gave the store counts to send, which it cannot: it is down by now or soon.
                        await Wait.UntilAsync(() => Users(a).Share!.Store.State == StoreState.Down, "the store seen down");
                    }

                    var took = Stopwatch.StartNew();
                    RawResponse response = await GetAsync(a, "erin");
                    Assert.True(took.Elapsed < TimeSpan.FromMilliseconds(500), $"a request took {took.Elapsed.TotalMilliseconds:F0} ms while the store was down");
                    Assert.Equal(200, response.Status);
                    Assert.Equal(server ??= response.BodyText, response.BodyText);
                }

                Assert.Equal(10, Users(a).Find("erin")!.RequestRate, 1);
            }
            finally
            {
                redis.Resume();
            }
        }
        finally
        {
            foreach (HttpOrigin origin in origins)
            {
                await origin.DisposeAsync();
            }
        }
    }
}
