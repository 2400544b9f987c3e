using PluginProxy.Abstractions.Options;

namespace PluginProxy.Abstractions;

/// <summary>
/// Implemented by a supervisor or analyzer that reads keys of the <c>[[listener]]</c> table (or under its <c>options</c>)
/// as typed options (see <see cref="OptionsBinder"/>). The host asks it whenever it builds a listener's pipeline (start,
/// reload, a new plugin version): the keys it names are accepted in the listener's table besides the host's own, any
/// other key is reported as unknown, and every error it returns refuses the configuration at its <c>file:line:column</c>.
/// </summary>
public interface IListenerOptions
{
    /// <summary>
    /// The keys of the <c>[[listener]]</c> table this component owns (<c>forwardfor</c>); empty when it reads only under
    /// <c>options</c>. Naming <c>route</c> claims the conditions of the listener's <c>[[listener.route]]</c> tables (the
    /// host reads only their <c>backend</c>): the component then binds them and reports their errors, unknown keys
    /// included. A listener whose routes have conditions that no component of it claims is refused at each of them. A key of
    /// <c>[listener.tls]</c>, a table the host reads too, is named dotted (<c>tls.alpn</c>, the https supervisor's); the keys
    /// of that table no one owns are reported as unknown in it.
    /// </summary>
    IReadOnlyCollection<string> ListenerKeys { get; }

    /// <summary>Binds this component's options for <paramref name="listener"/> and returns every error; must not throw.</summary>
    IReadOnlyList<OptionError> CheckListener(ListenerSettings listener);
}
