using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using PluginProxy.Host.Configuration;

namespace PluginProxy.Host.Backends;

/// <summary>
/// Resolves the names of servers: A and AAAA records (every address is used), or SRV records whose targets give the
/// addresses and ports. With <c>resolvers</c>, every query goes to those nameservers (DnsClient); without, names are
/// resolved by the system (<c>/etc/hosts</c>, then DNS), and SRV records are asked of the nameservers of
/// <c>/etc/resolv.conf</c>. Nothing is cached here: each call asks again.
/// </summary>
internal sealed class NameResolver
{
    private readonly DnsSettings _settings;
    private readonly Lazy<LookupClient> _client;

    public NameResolver(DnsSettings settings)
    {
        _settings = settings;
        _client = new Lazy<LookupClient>(() => new LookupClient(Options(settings)));
    }

    /// <summary>The settings this resolver was made with.</summary>
    public DnsSettings Settings => _settings;

    private bool UsesSystem => _settings.Nameservers.Count == 0;

    /// <summary>Where names are resolved, for messages.</summary>
    public string Describe => UsesSystem ? "the system's resolver" : string.Join(", ", _settings.Nameservers.Select(EndPoints.Format));

    private static LookupClientOptions Options(DnsSettings settings)
    {
        LookupClientOptions options = settings.Nameservers.Count > 0 ? new LookupClientOptions(settings.Nameservers.ToArray()) : new LookupClientOptions();
        options.UseCache = false;
        options.Timeout = settings.Timeout;
        options.Retries = 0;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = true;
        options.UseRandomNameServer = false; // in the order `resolvers` lists them
        options.ContinueOnEmptyResponse = true;
        return options;
    }

    /// <summary>Resolves <paramref name="name"/> once; never throws but for <paramref name="cancellationToken"/>.</summary>
    public async Task<ResolveResult> ResolveAsync(ServerHostName name, CancellationToken cancellationToken)
    {
        try
        {
            return name.Srv
                ? await ResolveSrvAsync(name.Host, cancellationToken).ConfigureAwait(false)
                : await ResolveHostAsync(name.Host, name.Port, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException ex)
        {
            return ResolveResult.Failed($"{Explain(ex)} (asked {Describe})");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ResolveResult.Failed($"no answer within {Units.Format(_settings.Timeout)} (asked {Describe})");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // No nameserver to ask (no /etc/resolv.conf for an SRV name), a socket that cannot be opened...: a failure like another.
            return ResolveResult.Failed($"{ex.Message} (asked {Describe})");
        }
    }

    private static string Explain(DnsResponseException ex) =>
        ex.Code == DnsResponseCode.ConnectionTimeout ? "no answer in time" : ex.DnsError is { Length: > 0 } error ? error : ex.Message;

    private async Task<ResolveResult> ResolveHostAsync(string host, int port, CancellationToken cancellationToken)
    {
        (IPAddress[] addresses, string? failure) = await AddressesOfAsync(host, null, cancellationToken).ConfigureAwait(false);
        return addresses.Length > 0
            ? new ResolveResult(addresses.Select(a => new IPEndPoint(a, port)).ToArray(), null)
            : ResolveResult.Failed(failure ?? "no A or AAAA record");
    }

    /// <summary>The addresses of <paramref name="host"/>, sorted (IPv4 first), or none and why.</summary>
    private async Task<(IPAddress[] Addresses, string? Failure)> AddressesOfAsync(string host, IDnsQueryResponse? known, CancellationToken cancellationToken)
    {
        if (known is not null && FromRecords(host, known.Additionals) is { Length: > 0 } given)
        {
            return (given, null);
        }

        if (UsesSystem)
        {
            try
            {
                IPAddress[] found = await Dns.GetHostAddressesAsync(host, cancellationToken).WaitAsync(_settings.Timeout, cancellationToken).ConfigureAwait(false);
                return (Sorted(found), found.Length == 0 ? "no address" : null);
            }
            catch (SocketException ex)
            {
                return ([], $"{ex.SocketErrorCode}: {ex.Message} (asked {Describe})");
            }
            catch (TimeoutException)
            {
                return ([], $"no answer within {Units.Format(_settings.Timeout)} (asked {Describe})");
            }
        }

        Task<IDnsQueryResponse> a = _client.Value.QueryAsync(host, QueryType.A, QueryClass.IN, cancellationToken);
        Task<IDnsQueryResponse> aaaa = _client.Value.QueryAsync(host, QueryType.AAAA, QueryClass.IN, cancellationToken);
        IDnsQueryResponse v4 = await a.ConfigureAwait(false);
        IDnsQueryResponse v6 = await aaaa.ConfigureAwait(false);
        IPAddress[] addresses = Sorted(v4.Answers.ARecords().Select(r => r.Address).Concat(v6.Answers.AaaaRecords().Select(r => r.Address)));
        string? why = v4.HasError ? Error(v4) : v6.HasError ? Error(v6) : null;
        return (addresses, addresses.Length > 0 ? null : why is null ? null : $"{why} (asked {Describe})");
    }

    private static string Error(IDnsQueryResponse response) =>
        response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain ? "NXDOMAIN: no such name" : response.ErrorMessage;

    private async Task<ResolveResult> ResolveSrvAsync(string name, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response = await _client.Value.QueryAsync(name, QueryType.SRV, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        SrvRecord[] records = response.Answers.SrvRecords().Where(r => r.Port > 0 && r.Target.Value is not ("." or "")).ToArray();
        if (records.Length == 0)
        {
            return ResolveResult.Failed($"{(response.HasError ? Error(response) : "no SRV record")} (asked {Describe})");
        }

        // The records of the lowest priority only (the others are fallbacks); their weights are not used.
        ushort priority = records.Min(r => r.Priority);
        var endPoints = new List<IPEndPoint>();
        string? failure = null;
        foreach (SrvRecord record in records.Where(r => r.Priority == priority))
        {
            string target = record.Target.Value.TrimEnd('.');
            (IPAddress[] addresses, string? why) = await AddressesOfAsync(target, response, cancellationToken).ConfigureAwait(false);
            failure ??= why is null ? null : $"target {target}: {why}";
            foreach (IPAddress address in addresses)
            {
                var endPoint = new IPEndPoint(address, record.Port);
                if (!endPoints.Contains(endPoint))
                {
                    endPoints.Add(endPoint);
                }
            }
        }

        return endPoints.Count > 0 ? new ResolveResult([.. endPoints], null) : ResolveResult.Failed(failure ?? "the SRV targets have no address");
    }

    private static IPAddress[]? FromRecords(string host, IEnumerable<DnsResourceRecord> records)
    {
        IPAddress[] found = Sorted(records.Where(r => r.DomainName.Value.TrimEnd('.').Equals(host, StringComparison.OrdinalIgnoreCase))
            .Select(r => r switch { ARecord v4 => v4.Address, AaaaRecord v6 => v6.Address, _ => null }).OfType<IPAddress>());
        return found.Length > 0 ? found : null;
    }

    /// <summary>Distinct, IPv4 first, then by bytes: the same answer in another order is the same set.</summary>
    private static IPAddress[] Sorted(IEnumerable<IPAddress> addresses) =>
        addresses.Distinct().OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)
            .ThenBy(a => Convert.ToHexString(a.GetAddressBytes()), StringComparer.Ordinal).ToArray();
}
