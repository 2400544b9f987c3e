using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace PluginProxy.Host.Ctl;

/// <summary>
/// <c>pluginproxy ctl</c>: the runtime API from the command line (as HAProxy's <c>socat ... stats socket</c> or
/// <c>hatop</c>). Each verb is one request to the admin endpoint; output is a short table or line, or the API's JSON
/// with <c>--json</c>. Exit codes: 0 done, 1 refused or unreachable (the reason on stderr), 2 usage.
/// </summary>
internal static class CtlCommand
{
    /// <summary>The <c>ctl</c> command with its verbs; <paramref name="run"/> receives what to do once parsing is over.</summary>
    public static Command Build(Action<Func<Task<int>>> run)
    {
        var configOption = new Option<string>("--config", "-c")
        {
            Description = "The configuration file that says where the admin endpoint is.",
            DefaultValueFactory = _ => "proxy.toml",
        };
        var url = new Option<string?>("--url") { Description = "The admin endpoint's address, such as http://127.0.0.1:8404 (default: from the configuration)." };
        var socket = new Option<string?>("--socket") { Description = "The admin endpoint's Unix socket (default: admin_socket from the configuration)." };
        var tokenFile = new Option<string?>("--token-file") { Description = "A file holding the admin token (default: admin_token_file from the configuration)." };
        var json = new Option<bool>("--json") { Description = "Print the API's JSON instead of a table." };
        var ctl = new Command("ctl", "Talk to a running proxy's runtime API: show state, drain or ready a server, set a weight, add or remove a server, reload.");
        foreach (Option option in new Option[] { configOption, url, socket, tokenFile, json })
        {
            option.Recursive = true;
            ctl.Options.Add(option);
        }

        var what = new Argument<string>("what") { Description = "listeners | backends | <backend> | <backend>/<server>", DefaultValueFactory = _ => "backends" };
        var show = new Command("show", "Show listeners, backends with their servers, one backend, or one server.") { what };
        show.SetAction(p => run(() => ShowAsync(Client(p), p.GetValue(what)!, p.GetValue(json))));
        ctl.Subcommands.Add(show);

        foreach (string state in new[] { "ready", "drain", "maint" })
        {
            var target = new Argument<string>("backend/server");
            var verb = new Command(state, state switch
            {
                "ready" => "Let the server take traffic again.",
                "drain" => "No new streams for the server; running ones finish; health checks go on.",
                _ => "Maintenance: no traffic and no health checks; running streams finish.",
            }) { target };
            verb.SetAction(p => run(() => ChangeAsync(Client(p), p.GetValue(target)!, $"{{\"state\": \"{state}\"}}", p.GetValue(json))));
            ctl.Subcommands.Add(verb);
        }

        var weightTarget = new Argument<string>("backend/server");
        var weightValue = new Argument<int>("weight") { Description = "0 to 256; 0 takes no new streams." };
        var weight = new Command("weight", "Set a server's weight.") { weightTarget, weightValue };
        weight.SetAction(p => run(() => ChangeAsync(Client(p), p.GetValue(weightTarget)!, $"{{\"weight\": {p.GetValue(weightValue)}}}", p.GetValue(json))));
        ctl.Subcommands.Add(weight);

        var addTarget = new Argument<string>("backend/server");
        var addAddress = new Argument<string>("address") { Description = "Such as 127.0.0.1:9003 or [::1]:9003." };
        var addWeight = new Option<int?>("--weight") { Description = "1 to 256 (default 1)." };
        var addState = new Option<string?>("--state") { Description = "ready | drain | maint (default maint: ready it when it may take traffic)." };
        var addProto = new Option<string?>("--proto") { Description = "h1 | h2 (default h1)." };
        var add = new Command("add", "Add a server to a backend (until the next reload, unless the configuration names it too).") { addTarget, addAddress, addWeight, addState, addProto };
        add.SetAction(p => run(() => AddAsync(Client(p), p.GetValue(addTarget)!, p.GetValue(addAddress)!, p.GetValue(addWeight), p.GetValue(addState), p.GetValue(addProto), p.GetValue(json))));
        ctl.Subcommands.Add(add);

        var delTarget = new Argument<string>("backend/server");
        var del = new Command("del", "Remove a server in maint from its backend; the streams it carries finish.") { delTarget };
        del.SetAction(p => run(() => DeleteAsync(Client(p), p.GetValue(delTarget)!, p.GetValue(json))));
        ctl.Subcommands.Add(del);

        var reload = new Command("reload", "Reload the configuration, as SIGHUP does.");
        reload.SetAction(p => run(() => ReloadAsync(Client(p))));
        ctl.Subcommands.Add(reload);
        return ctl;

        Func<AdminClient?> Client(ParseResult p) => () =>
        {
            AdminClient? client = AdminClient.Create(p.GetValue(url), p.GetValue(socket), p.GetValue(tokenFile), p.GetValue(configOption)!, out string? problem);
            if (client is null)
            {
                Console.Error.WriteLine($"pluginproxy ctl: {problem}");
            }

            return client;
        };
    }

    private static async Task<int> ShowAsync(Func<AdminClient?> connect, string what, bool json)
    {
        string path = what switch
        {
            "listeners" => "/api/listeners",
            "backends" => "/api/backends",
            _ when what.Split('/') is [string backend, string server] => $"/api/backends/{Uri.EscapeDataString(backend)}/servers/{Uri.EscapeDataString(server)}",
            _ => $"/api/backends/{Uri.EscapeDataString(what)}",
        };
        return await SendAsync(connect, HttpMethod.Get, path, null, json, CtlOutput.Render).ConfigureAwait(false);
    }

    private static Task<int> ChangeAsync(Func<AdminClient?> connect, string target, string change, bool json) =>
        ServerPath(target) is { } path
            ? SendAsync(connect, HttpMethod.Patch, path, change, json, CtlOutput.Server)
            : Task.FromResult(BadTarget(target));

    private static Task<int> AddAsync(Func<AdminClient?> connect, string target, string address, int? weight, string? state, string? proto, bool json)
    {
        if (target.Split('/') is not [string backend, string name] || backend.Length == 0 || name.Length == 0)
        {
            return Task.FromResult(BadTarget(target));
        }

        var body = new Dictionary<string, object> { ["name"] = name, ["address"] = address };
        if (weight is { } w)
        {
            body["weight"] = w;
        }

        if (state is not null)
        {
            body["state"] = state;
        }

        if (proto is not null)
        {
            body["proto"] = proto;
        }

        return SendAsync(connect, HttpMethod.Post, $"/api/backends/{Uri.EscapeDataString(backend)}/servers", JsonSerializer.Serialize(body), json, CtlOutput.Server);
    }

    private static Task<int> DeleteAsync(Func<AdminClient?> connect, string target, bool json) =>
        ServerPath(target) is { } path
            ? SendAsync(connect, HttpMethod.Delete, path, null, json, _ => $"{target} removed")
            : Task.FromResult(BadTarget(target));

    private static Task<int> ReloadAsync(Func<AdminClient?> connect) =>
        SendAsync(connect, HttpMethod.Post, "/api/reload", null, json: true, body => body.TrimEnd());

    private static string? ServerPath(string target) =>
        target.Split('/') is [string backend, string server] && backend.Length > 0 && server.Length > 0
            ? $"/api/backends/{Uri.EscapeDataString(backend)}/servers/{Uri.EscapeDataString(server)}"
            : null;

    private static int BadTarget(string target)
    {
        Console.Error.WriteLine($"pluginproxy ctl: \"{target}\" is not <backend>/<server>, such as app/a");
        return ExitCodes.Usage;
    }

    private static async Task<int> SendAsync(Func<AdminClient?> connect, HttpMethod method, string path, string? body, bool json, Func<string, string> human)
    {
        using AdminClient? client = connect();
        if (client is null)
        {
            return ExitCodes.ConfigInvalid;
        }

        int status;
        string answer;
        try
        {
            (status, answer) = await client.SendAsync(method, path, body).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine($"pluginproxy ctl: cannot reach the admin endpoint at {client.Describe}: {ex.Message}");
            return 1;
        }

        if (status is < 200 or >= 300)
        {
            Console.Error.WriteLine($"pluginproxy ctl: {method} {path}: {status}: {CtlOutput.Error(answer)}");
            return 1;
        }

        Console.Out.Write(json ? answer : human(answer) + "\n");
        return ExitCodes.Ok;
    }
}
