namespace PluginProxy.Tests.Infrastructure;

/// <summary>Waits on a condition with a deadline instead of sleeping for a fixed time.</summary>
internal static class Wait
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(10);

    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        DateTime end = DateTime.UtcNow + (deadline ?? DefaultDeadline);
        while (!condition())
        {
            if (DateTime.UtcNow > end)
            {
                throw new TimeoutException($"Timed out waiting for: {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Waits until an asynchronous <paramref name="condition"/> (a request through the proxy, say) holds, with a deadline.</summary>
    public static async Task ForAsync(Func<Task<bool>> condition, string what, TimeSpan? deadline = null)
    {
        DateTime end = DateTime.UtcNow + (deadline ?? DefaultDeadline);
        while (!await condition())
        {
            if (DateTime.UtcNow > end)
            {
                throw new TimeoutException($"Timed out waiting for: {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing the test if it takes longer than the deadline.</summary>
    public static async Task<T> WithDeadline<T>(this Task<T> task, string what, TimeSpan? deadline = null)
    {
        Task winner = await Task.WhenAny(task, Task.Delay(deadline ?? DefaultDeadline));
        if (winner != task)
        {
            throw new TimeoutException($"Timed out waiting for: {what}");
        }

        return await task;
    }

    public static async Task WithDeadline(this Task task, string what, TimeSpan? deadline = null)
    {
        Task winner = await Task.WhenAny(task, Task.Delay(deadline ?? DefaultDeadline));
        if (winner != task)
        {
            throw new TimeoutException($"Timed out waiting for: {what}");
        }

        await task;
    }
}
