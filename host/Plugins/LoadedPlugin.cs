using System.Reflection;
using System.Runtime.Loader;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;

namespace PluginProxy.Host.Plugins;

/// <summary>
/// One version of one plugin, loaded into its own unloadable load context, with the supervisors, analyzers and health
/// probes it provides already built. Listener pipelines hold references to it; once it is retired and the last reference is dropped,
/// its services are disposed and its load context unloaded.
/// </summary>
internal sealed class LoadedPlugin : LoadedVersion
{
    /// <summary>The types whose assemblies the host and every plugin share, so that both agree on interface identity.</summary>
    private static readonly Type[] SharedTypes =
    [
        typeof(IPlugin),
        typeof(IServiceCollection),
        typeof(ServiceProvider),
        typeof(ILogger),
        typeof(ILoggerFactory),
    ];

    /// <summary>How long this version, once unloaded, may take to be collected before it is reported as a leak.</summary>
    public TimeSpan CollectionDeadline { get; set; } = TimeSpan.FromSeconds(30);

    private readonly ILogger _log;
    private IPlugin? _entry;
    private PluginLoader? _loader;
    private ServiceProvider? _services;
    private Dictionary<string, IProtocolSupervisor> _supervisors;
    private Dictionary<string, IFlowAnalyzer> _analyzers;
    private Dictionary<string, IHealthProbe> _healthProbes;

    private LoadedPlugin(string name, int generation, string assemblyPath, Version? sdkVersion, IPlugin entry, PluginLoader loader, ServiceProvider services,
        Dictionary<string, IProtocolSupervisor> supervisors, Dictionary<string, IFlowAnalyzer> analyzers, Dictionary<string, IHealthProbe> healthProbes, ILogger log)
    {
        _entry = entry;
        Name = name;
        Generation = generation;
        AssemblyPath = assemblyPath;
        _loader = loader;
        _services = services;
        _supervisors = supervisors;
        _analyzers = analyzers;
        _healthProbes = healthProbes;
        _log = log;
        LoadContext = new WeakReference(loader.LoadContext);
        SdkVersion = sdkVersion;
    }

    public string Name { get; }

    /// <summary>Counts the versions of this plugin loaded by this process, from 1.</summary>
    public int Generation { get; }

    public string AssemblyPath { get; }

    public Version? SdkVersion { get; }

    /// <summary>The plugin's load context, weakly held, so tests and the leak check can see whether it was collected.</summary>
    public WeakReference LoadContext { get; }

    public IReadOnlyDictionary<string, IProtocolSupervisor> Supervisors => _supervisors;

    public IReadOnlyDictionary<string, IFlowAnalyzer> Analyzers => _analyzers;

    /// <summary>The health probes it provides, by check kind (<see cref="IPluginBuilder.AddHealthProbe{TProbe}"/>).</summary>
    public IReadOnlyDictionary<string, IHealthProbe> HealthProbes => _healthProbes;

    /// <summary>Loads the plugin in <paramref name="folder"/> (<c>&lt;Name&gt;/&lt;Name&gt;.dll</c>) and builds what it provides.</summary>
    /// <exception cref="PluginLoadException">The folder holds no usable plugin; the message says why.</exception>
    /// <param name="resident">True to load it into a context that is never unloaded (<c>resident_plugins</c>).</param>
    public static async Task<LoadedPlugin> LoadAsync(string folder, int generation, PluginHostServices host, bool resident = false)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(folder));
        string assemblyPath = Path.Combine(folder, name + ".dll");
        if (!File.Exists(assemblyPath))
        {
            throw new PluginLoadException(folder, $"no {name}.dll in this plugin folder; a plugin folder holds <Name>/<Name>.dll and its dependencies");
        }

        Version? sdk;
        try
        {
            sdk = SdkCompatibility.ReadReferencedSdkVersion(assemblyPath);
        }
        catch (Exception ex) when (ex is BadImageFormatException or IOException or UnauthorizedAccessException)
        {
            throw new PluginLoadException(assemblyPath, $"is not a loadable .NET assembly ({ex.Message})", ex);
        }

        if (SdkCompatibility.Check(sdk) is { } incompatible)
        {
            throw new PluginLoadException(assemblyPath, $"refused: {incompatible}");
        }

        PluginLoader loader = PluginLoader.CreateFromAssemblyFile(assemblyPath, SharedTypes, config =>
        {
            // A resident plugin's code gets the runtime's tiered compilation with run-time profiles, which code that
            // may be unloaded never gets (measured: 7-10% less CPU per request for the http supervisor, docs/http2.md).
            config.IsUnloadable = !resident;
            // Read the files into memory: the files on disk may then be replaced at any time (a mapped file that is
            // overwritten crashes the process).
            config.LoadInMemory = true;
        });

        ServiceProvider? services = null;
        try
        {
            Assembly assembly = loader.LoadDefaultAssembly();
            IPlugin entry = CreateEntryPoint(assembly, assemblyPath);
            var collection = new ServiceCollection();
            host.AddTo(collection);
            var builder = new PluginBuilder(name, collection);
            entry.Configure(builder);
            foreach ((_, Type type) in builder.Supervisors)
            {
                collection.AddSingleton(type);
            }

            foreach ((_, Type type) in builder.Analyzers.Concat(builder.HealthProbes))
            {
                collection.AddSingleton(type);
            }

            services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });

            // Build everything now: a plugin whose types cannot be built is refused at load, not at its first session.
            var supervisors = new Dictionary<string, IProtocolSupervisor>(StringComparer.Ordinal);
            foreach ((string providedName, Type type) in builder.Supervisors)
            {
                supervisors[providedName] = (IProtocolSupervisor)services.GetRequiredService(type);
            }

            var analyzers = new Dictionary<string, IFlowAnalyzer>(StringComparer.Ordinal);
            foreach ((string providedName, Type type) in builder.Analyzers)
            {
                analyzers[providedName] = (IFlowAnalyzer)services.GetRequiredService(type);
            }

            var healthProbes = new Dictionary<string, IHealthProbe>(StringComparer.Ordinal);
            foreach ((string providedName, Type type) in builder.HealthProbes)
            {
                healthProbes[providedName] = (IHealthProbe)services.GetRequiredService(type);
            }

            if (supervisors.Count == 0 && analyzers.Count == 0 && healthProbes.Count == 0)
            {
                throw new PluginLoadException(assemblyPath, "provides nothing: its Configure announced no supervisor, no analyzer and no health probe");
            }

            using (var timeout = new CancellationTokenSource(LifecycleTimeout))
            {
                // Yielding: what completes the plugin's start may be a socket thread, and loading goes on afterwards.
                await entry.StartAsync(services, timeout.Token).AsTask().WaitAsync(LifecycleTimeout).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            }

            ILogger log = host.LoggerFactory.CreateLogger("PluginProxy.Plugins");
            return new LoadedPlugin(name, generation, assemblyPath, sdk, entry, loader, services, supervisors, analyzers, healthProbes, log) { Resident = resident };
        }
        catch (Exception ex)
        {
            services?.Dispose();
            loader.Dispose();
            if (ex is PluginLoadException)
            {
                throw;
            }

            if (ex is TimeoutException)
            {
                throw new PluginLoadException(assemblyPath, $"did not start within {LifecycleTimeout.TotalSeconds:0} s (StartAsync)", ex);
            }

            Exception cause = ex is TargetInvocationException { InnerException: { } inner } ? inner : ex;
            throw new PluginLoadException(assemblyPath, $"failed to load: {cause.GetType().Name}: {cause.Message}", cause);
        }
    }

    private static IPlugin CreateEntryPoint(Assembly assembly, string assemblyPath)
    {
        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            throw new PluginLoadException(assemblyPath, $"types cannot be loaded: {ex.LoaderExceptions.FirstOrDefault()?.Message}", ex);
        }

        List<Type> entries = types.Where(t => typeof(IPlugin).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false }).ToList();
        if (entries.Count == 0)
        {
            // By name on purpose: this finds an IPlugin from another copy of the SDK, which is by definition not our type.
            bool seesOtherSdk = types.Any(t => t.GetInterfaces().Any(i => i.FullName == typeof(IPlugin).FullName));
            throw new PluginLoadException(assemblyPath, seesOtherSdk
                ? $"implements {typeof(IPlugin).FullName} from its own copy of {SdkCompatibility.HostSdk.Name}; remove that copy from the plugin folder (reference the SDK with Private=false, ExcludeAssets=runtime)"
                : $"has no public class implementing {typeof(IPlugin).FullName}");
        }

        if (entries.Count > 1)
        {
            throw new PluginLoadException(assemblyPath, $"has {entries.Count} classes implementing {nameof(IPlugin)} ({string.Join(", ", entries.Select(t => t.FullName))}); keep exactly one");
        }

        if (entries[0].GetConstructor(Type.EmptyTypes) is null)
        {
            throw new PluginLoadException(assemblyPath, $"{entries[0].FullName} needs a public parameterless constructor");
        }

        return (IPlugin)Activator.CreateInstance(entries[0])!;
    }

    protected override ILogger Log => _log;

    /// <summary>Starts on a thread of its own (see <see cref="LoadedVersion"/>): <c>StopAsync</c> may block before it returns.</summary>
    protected override async Task UnloadAsync()
    {
        IPlugin? entry = Interlocked.Exchange(ref _entry, null);
        ServiceProvider? services = Interlocked.Exchange(ref _services, null);
        PluginLoader? loader = Interlocked.Exchange(ref _loader, null);
        _supervisors = new Dictionary<string, IProtocolSupervisor>();
        _analyzers = new Dictionary<string, IFlowAnalyzer>();
        _healthProbes = new Dictionary<string, IHealthProbe>();
        try
        {
            using var timeout = new CancellationTokenSource(LifecycleTimeout);
            if (entry is not null)
            {
                await entry.StopAsync(timeout.Token).AsTask().WaitAsync(LifecycleTimeout).ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            }
        }
        catch (Exception ex)
        {
            // A plugin that fails to stop must not stop the unload of the others.
            PluginLog.StopFailed(_log, ex, Name, Generation);
        }

        try
        {
            // Disposing the provider disposes every singleton the plugin built: its timers, threads and handlers stop.
            services?.Dispose();
        }
        catch (Exception ex)
        {
            PluginLog.DisposeFailed(_log, ex, Name, Generation);
        }

        if (Resident)
        {
            // Its load context cannot be unloaded: the code stays in memory, which is what resident_plugins asked for.
            PluginLog.StaysResident(_log, Name, Generation);
            return;
        }

        loader?.Dispose();
        PluginLog.Unloaded(_log, Name, Generation);
        CollectionWatch.Shared.Add(LoadContext, CollectionDeadline,
            () => PluginLog.Collected(_log, Name, Generation),
            () =>
            {
                Leaked = true;
                PluginLog.Leaked(_log, Name, Generation, CollectionDeadline.TotalSeconds);
            });
    }

    /// <summary>True when the plugin's load context is never unloaded (<c>resident_plugins</c>).</summary>
    public bool Resident { get; private init; }

    /// <summary>True when the version was unloaded but not collected within the deadline.</summary>
    public bool Leaked { get; private set; }

    /// <summary>True once the load context was unloaded and collected.</summary>
    public bool IsCollected => !LoadContext.IsAlive;

    public override string ToString() => $"{Name} (version {Generation})";

    internal AssemblyLoadContext? PeekLoadContext() => LoadContext.Target as AssemblyLoadContext;
}
