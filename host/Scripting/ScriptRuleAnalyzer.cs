using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Scripting;

namespace PluginProxy.Host.Scripting;

/// <summary>
/// Runs a compiled rule script as a flow analyzer: rule instances are pooled, so calling a rule costs a virtual call
/// and allocates nothing. A rule that throws fails only its stream, with the script's file and line in the error.
/// </summary>
internal sealed class ScriptRuleAnalyzer : IFlowAnalyzer
{
    private readonly Type _ruleType;
    private readonly string _display;
    private readonly IReadOnlyCollection<string> _files;
    private readonly Stack<Rule> _pool = new();
    private readonly Action<string> _log;

    public ScriptRuleAnalyzer(Type ruleType, string display, IReadOnlyCollection<string> files, ILogger log)
    {
        _ruleType = ruleType;
        _display = display;
        _files = files;
        _log = message => log.LogInformation("{Script}: {Message}", _display, message);
    }

    public ValueTask<AnalyzerVerdict> AnalyzeAsync(ProxyStream stream, Channel channel, CancellationToken cancellationToken)
    {
        Rule rule = Rent();
        ValueTask<AnalyzerVerdict> call = rule.InvokeAsync(stream, channel.Direction == ChannelDirection.Response, _log);
        if (call.IsCompletedSuccessfully)
        {
            AnalyzerVerdict verdict = call.Result;
            Return(rule);
            return new ValueTask<AnalyzerVerdict>(verdict);
        }

        return CompleteAsync(call, rule);
    }

    private async ValueTask<AnalyzerVerdict> CompleteAsync(ValueTask<AnalyzerVerdict> call, Rule rule)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new ScriptException($"{Where(ex)}: {ex.GetType().Name}: {ex.Message}", ex);
        }
        finally
        {
            Return(rule);
        }
    }

    /// <summary>The script file and line the exception was thrown from (the deepest frame in one of the script's files).</summary>
    private string Where(Exception ex)
    {
        foreach (StackFrame frame in new StackTrace(ex, fNeedFileInfo: true).GetFrames())
        {
            if (frame.GetFileName() is { } file && _files.Contains(file))
            {
                return $"{file}:{frame.GetFileLineNumber()}";
            }
        }

        return _display;
    }

    private Rule Rent()
    {
        lock (_pool)
        {
            if (_pool.TryPop(out Rule? rule))
            {
                return rule;
            }
        }

        return (Rule)Activator.CreateInstance(_ruleType)!;
    }

    private void Return(Rule rule)
    {
        lock (_pool)
        {
            if (_pool.Count < 64)
            {
                _pool.Push(rule);
            }
        }
    }

    /// <summary>Forgets the pooled instances (the script version is being unloaded).</summary>
    public void Clear()
    {
        lock (_pool)
        {
            _pool.Clear();
        }
    }

    public override string ToString() => _display;
}
