using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Scripting;
using PluginProxy.Host.Configuration;
using PluginProxy.Host.Plugins;

namespace PluginProxy.Host.Scripting;

/// <summary>
/// One compiled version of one script, in its own collectible load context: a rule (wrapped as a flow analyzer) or the
/// object a factory script returned. Pipelines hold references to it; once it is retired (a new version replaced it)
/// and the last reference is gone, its context is unloaded and collected.
/// </summary>
internal sealed class LoadedScript : LoadedVersion
{
    private ScriptLoadContext? _context;
    private ServiceProvider? _services;
    private ILogger _log = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    private LoadedScript(string path, int version, string sourceKey, IReadOnlyList<string> files, ScriptLoadContext context)
    {
        Path = path;
        Version = version;
        SourceKey = sourceKey;
        Files = files;
        _context = context;
        LoadContext = new WeakReference(context);
    }

    public string Path { get; }

    public int Version { get; }

    /// <summary>Identifies the sources this version was compiled from (a hash of every file and the toolchain).</summary>
    public string SourceKey { get; }

    /// <summary>The script and the files it loads (what a change of triggers a recompilation).</summary>
    public IReadOnlyList<string> Files { get; }

    public ScriptKind Kind { get; private set; }

    public IFlowAnalyzer? Analyzer { get; private set; }

    public IProtocolSupervisor? Supervisor { get; private set; }

    public WeakReference LoadContext { get; }

    /// <summary>Loads a compiled image; a factory script's body runs now. Null (with an error) when it cannot be used.</summary>
    public static async Task<LoadedScript?> CreateAsync(string path, int version, string sourceKey, IReadOnlyList<string> files, byte[] image, PluginHostServices host, List<ConfigError> errors, SourceSpot namedAt)
    {
        var context = new ScriptLoadContext($"script:{System.IO.Path.GetFileName(path)}#{version}");
        var script = new LoadedScript(path, version, sourceKey, files, context);
        try
        {
            Assembly assembly = context.LoadFromStream(new MemoryStream(image));
            Type type = assembly.GetTypes().First(t => t.Name == ScriptGenerator.ClassName);
            ILogger log = host.LoggerFactory.CreateLogger("PluginProxy.Scripts");
            script._log = log;
            if (typeof(Rule).IsAssignableFrom(type))
            {
                script.Kind = ScriptKind.Rule;
                script.Analyzer = new ScriptRuleAnalyzer(type, path, log);
                return script;
            }

            script.Kind = ScriptKind.Factory;
            var collection = new ServiceCollection();
            host.AddTo(collection);
            script._services = collection.BuildServiceProvider();
            var factory = (ScriptFactory)Activator.CreateInstance(type)!;
            // Yielding: what completes the factory may be a socket thread, and loading goes on afterwards.
            object? built = await factory.BuildAsync(script._services).AsTask().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            script.Analyzer = built as IFlowAnalyzer;
            script.Supervisor = built as IProtocolSupervisor;
            if (script.Analyzer is null && script.Supervisor is null)
            {
                errors.Add(new ConfigError(namedAt,
                    $"{path} returned {(built is null ? "null" : built.GetType().Name)}; a script that returns a value must return an {nameof(IFlowAnalyzer)} or an {nameof(IProtocolSupervisor)}"));
                script.Retire();
                return null;
            }

            return script;
        }
        catch (Exception ex)
        {
            Exception cause = ex is TargetInvocationException { InnerException: { } inner } ? inner : ex;
            errors.Add(new ConfigError(namedAt, $"{path} failed while loading: {cause.GetType().Name}: {cause.Message}"));
            script.Retire();
            return null;
        }
    }

    protected override ILogger Log => _log;

    /// <summary>Runs on a thread of its own (see <see cref="LoadedVersion"/>): what a factory script built may block in <c>Dispose</c>.</summary>
    protected override Task UnloadAsync()
    {
        (Analyzer as ScriptRuleAnalyzer)?.Clear();
        if (Kind == ScriptKind.Factory)
        {
            (Analyzer as IDisposable)?.Dispose();
            if (!ReferenceEquals(Supervisor, Analyzer))
            {
                (Supervisor as IDisposable)?.Dispose();
            }
        }

        Analyzer = null;
        Supervisor = null;
        _services?.Dispose();
        _services = null;
        Interlocked.Exchange(ref _context, null)?.Unload();
        return Task.CompletedTask;
    }

    public override string ToString() => $"{Path} (version {Version})";
}
