using System.Diagnostics.Metrics;

namespace PluginProxy.Host.Metrics;

/// <summary>
/// The <see cref="IMeterFactory"/> a plugin or script version is given: its meters carry the host's scope (so the host's
/// exporters show them; name them <c>PluginProxy.*</c>, see docs/operations.md) and are disposed with the version when it
/// unloads, so that no listener keeps a callback into an unloaded assembly.
/// </summary>
internal sealed class ScopedMeterFactory(object scope) : IMeterFactory
{
    private readonly List<Meter> _meters = [];
    private bool _disposed;

    public Meter Create(MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = scope });
        lock (_meters)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        Meter[] meters;
        lock (_meters)
        {
            _disposed = true;
            meters = [.. _meters];
            _meters.Clear();
        }

        foreach (Meter meter in meters)
        {
            meter.Dispose();
        }
    }
}
