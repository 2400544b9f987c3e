using System.Runtime.CompilerServices;
using PluginProxy.Abstractions;
using PluginProxy.Abstractions.Options;

namespace PluginProxy.Tcp.Routing;

/// <summary>
/// A tcp listener's routes (<c>[[listener.route]]</c>), bound from <see cref="ListenerSettings.Table"/> once per listener
/// configuration. The conditions only an HTTP request can meet (<c>host</c>, <c>path</c>, ...) are refused at their key
/// rather than ignored; any other key but <c>backend</c> and <c>sni</c> is unknown.
/// </summary>
internal sealed class TcpRoutes
{
    /// <summary>The listener key whose tables these are.</summary>
    public const string Key = "route";

    /// <summary>The conditions of http routes, which a tcp session cannot meet.</summary>
    private static readonly string[] HttpConditions = ["host", "path", "path_prefix", "method", "header"];

    private readonly ConditionalWeakTable<ListenerSettings, Bound> _bound = new();

    /// <summary>The routes and what binding them found.</summary>
    /// <param name="Routes">The routes, in order; those with an error are left out.</param>
    /// <param name="BySni">True when some route has <c>sni</c>: the session's ClientHello must then be read.</param>
    /// <param name="Errors">Every problem, at its place.</param>
    private sealed record Bound(IReadOnlyList<TcpRoute> Routes, bool BySni, IReadOnlyList<OptionError> Errors);

    /// <summary>The listener's routes, in order.</summary>
    public IReadOnlyList<TcpRoute> For(ListenerSettings settings) => BoundFor(settings).Routes;

    /// <summary>True when some route of the listener has <c>sni</c>.</summary>
    public bool RoutesBySni(ListenerSettings settings) => BoundFor(settings).BySni;

    /// <summary>Every problem of the listener's routes, at its place.</summary>
    public IReadOnlyList<OptionError> Check(ListenerSettings settings) => BoundFor(settings).Errors;

    private Bound BoundFor(ListenerSettings settings) => _bound.GetValue(settings, static s => Bind(s.Table.Find(Key)?.Value));

    private static Bound Bind(OptionNode? node)
    {
        var routes = new List<TcpRoute>();
        var errors = new List<OptionError>();
        if (node is null)
        {
            return new Bound(routes, false, errors);
        }

        if (node is not OptionArray array)
        {
            errors.Add(new OptionError(node.Spot, $"`{Key}` must be an array of tables ([[{Key}]]), not {node.Describe()}"));
            return new Bound(routes, false, errors);
        }

        foreach (OptionNode item in array.Items)
        {
            if (item is not OptionTable table)
            {
                errors.Add(new OptionError(item.Spot, $"`{Key}` must hold tables such as {{ name = \"a\", ... }}, not {item.Describe()}"));
                continue;
            }

            foreach (OptionEntry condition in table.Entries.Where(e => HttpConditions.Contains(e.Key)))
            {
                errors.Add(new OptionError(condition.KeySpot, $"route `{condition.Key}` has no effect with supervisor \"tcp\": it routes by `sni` only"));
            }

            var own = new OptionTable(table.Spot, table.Entries.Where(e => !HttpConditions.Contains(e.Key)).ToList());
            OptionsBinding<TcpRoute> route = OptionsBinder.Bind<TcpRoute>(own, Key);
            errors.AddRange(route.Errors);
            if (route.IsValid)
            {
                routes.Add(route.Value);
            }
        }

        return new Bound(routes, routes.Exists(r => r.Sni is not null), errors);
    }
}
