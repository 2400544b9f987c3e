using System.Text;

namespace PluginProxy.Host.Rules;

/// <summary><c>method</c>: the request's method is one of these (case-sensitive, as methods are).</summary>
internal sealed class MethodTest(IEnumerable<string> methods) : RuleTest
{
    private readonly byte[][] _methods = methods.Select(Encoding.ASCII.GetBytes).ToArray();

    public override bool Holds(in RuleInput input)
    {
        if (input.Request is not { } request)
        {
            return false;
        }

        ReadOnlySpan<byte> method = request.RawMethod;
        foreach (byte[] candidate in _methods)
        {
            if (method.SequenceEqual(candidate))
            {
                return true;
            }
        }

        return false;
    }
}
