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
    private readonly System.Reflection.FieldInfo? _fileField;
    private readonly System.Reflection.FieldInfo? _lineField;
    private readonly System.Reflection.FieldInfo? _endLineField;
    private readonly Stack<Rule> _pool = new();
    private readonly Action<string> _log;

    public ScriptRuleAnalyzer(Type ruleType, string display, ILogger log)
    {
        _ruleType = ruleType;
        _display = display;
        _fileField = ruleType.GetField(ScriptGenerator.FileField);
        _lineField = ruleType.GetField(ScriptGenerator.LineField);
        _endLineField = ruleType.GetField(ScriptGenerator.EndLineField);
        _log = message => ScriptLog.ScriptSaid(log, _display, message);
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
            throw new AnalyzerException(_display, $"{Where(ex, rule)}: {ex.GetType().Name}: {ex.Message}", ex);
        }
        finally
        {
            Return(rule);
        }
    }

    /// <summary>
    /// The script file and line the exception was thrown from: the deepest frame in the script. In the rule's body, the
    /// runtime's line is used when it falls inside the top-level statement that was running (the generated code records
    /// it), else that statement's first line: optimized code does not always map back to a line, or maps to another one.
    /// </summary>
    private string Where(Exception ex, Rule rule)
    {
        string? file = _fileField?.GetValue(rule) as string;
        int line = _lineField?.GetValue(rule) as int? ?? 0;
        int endLine = _endLineField?.GetValue(rule) as int? ?? 0;
        foreach (StackFrame frame in new StackTrace(ex, fNeedFileInfo: true).GetFrames())
        {
            if (frame.GetMethod() is not { } method || method.Module.Assembly != _ruleType.Assembly)
            {
                continue;
            }

            string? frameFile = frame.GetFileName();
            int frameLine = frame.GetFileLineNumber();
            bool inBody = method.DeclaringType?.DeclaringType == _ruleType && method.DeclaringType.Name.StartsWith("<RunAsync>", StringComparison.Ordinal);
            if (!inBody && frameFile is not null && frameLine > 0)
            {
                return $"{frameFile}:{frameLine}"; // A method, lambda or local function of the script.
            }

            if (inBody && file is not null)
            {
                return frameFile == file && frameLine >= line && frameLine <= endLine ? $"{file}:{frameLine}" : $"{file}:{line}";
            }
        }

        return file is not null ? $"{file}:{line}" : _display;
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
