using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PluginProxy.Tests.Dns;

/// <summary>
/// A tiny DNS nameserver on 127.0.0.1 (UDP, an ephemeral port) whose answers the test controls: A and AAAA records,
/// SRV records (with the A records of some targets in the additional section), NXDOMAIN for any name it does not know or
/// was told to refuse. Parses only the question; enough for the proxy's resolver.
/// </summary>
internal sealed class DnsStub : IAsyncDisposable
{
    private const ushort TypeA = 1;
    private const ushort TypeAaaa = 28;
    private const ushort TypeSrv = 33;

    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentDictionary<string, Zone> _zones = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _queries = new(StringComparer.OrdinalIgnoreCase);

    public DnsStub()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _loop = Task.Run(ServeAsync);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>"127.0.0.1:port", as `resolvers` lists it.</summary>
    public string Address => $"127.0.0.1:{EndPoint.Port}";

    /// <summary>Exceptions while answering (a test failure).</summary>
    public ConcurrentQueue<Exception> Errors { get; } = new();

    /// <summary><paramref name="name"/> answers with these addresses (A for IPv4, AAAA for IPv6); none: NOERROR with no record.</summary>
    public void SetAddresses(string name, params IPAddress[] addresses) => _zones[name] = new Zone(addresses, [], false);

    /// <summary><paramref name="name"/> answers with these SRV records; <paramref name="glue"/> adds the A records of those targets.</summary>
    public void SetSrv(string name, (int Priority, int Port, string Target)[] records, Dictionary<string, IPAddress[]>? glue = null) =>
        _zones[name] = new Zone([], records, false, glue ?? []);

    /// <summary><paramref name="name"/> answers NXDOMAIN.</summary>
    public void SetNxDomain(string name) => _zones[name] = new Zone([], [], true);

    /// <summary>How many queries asked about <paramref name="name"/>.</summary>
    public int Queries(string name) => _queries.GetValueOrDefault(name);

    private async Task ServeAsync()
    {
        byte[] buffer = new byte[1500];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            try
            {
                byte[] answer = Answer(buffer.AsSpan(0, received.ReceivedBytes));
                await _socket.SendToAsync(answer, SocketFlags.None, received.RemoteEndPoint);
            }
            catch (Exception ex)
            {
                Errors.Enqueue(ex);
            }
        }
    }

    private byte[] Answer(ReadOnlySpan<byte> query)
    {
        // The question: a name of labels, then type and class.
        int position = 12;
        var labels = new List<string>();
        while (query[position] != 0)
        {
            int length = query[position];
            labels.Add(Encoding.ASCII.GetString(query.Slice(position + 1, length)));
            position += length + 1;
        }

        position++;
        string name = string.Join('.', labels);
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(query[position..]);
        position += 4;
        _queries.AddOrUpdate(name, 1, (_, n) => n + 1);

        var answers = new List<byte[]>();
        var additionals = new List<byte[]>();
        bool nxDomain = !_zones.TryGetValue(name, out Zone? zone) || zone.NxDomain;
        if (!nxDomain)
        {
            if (type is TypeA or TypeAaaa)
            {
                AddressFamily family = type == TypeA ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                answers.AddRange(zone!.Addresses.Where(a => a.AddressFamily == family).Select(a => Record(null, type, a.GetAddressBytes())));
            }
            else if (type == TypeSrv)
            {
                foreach ((int priority, int port, string target) in zone!.Srv)
                {
                    byte[] data = [.. UInt16(priority), .. UInt16(10), .. UInt16(port), .. Name(target)];
                    answers.Add(Record(null, TypeSrv, data));
                }

                foreach ((string target, IPAddress[] addresses) in zone.Glue)
                {
                    additionals.AddRange(addresses.Select(a => Record(target, a.AddressFamily == AddressFamily.InterNetwork ? TypeA : TypeAaaa, a.GetAddressBytes())));
                }
            }
        }

        var response = new List<byte>();
        response.AddRange(query[..2].ToArray()); // the id
        byte recursionDesired = (byte)(query[2] & 0x01);
        response.Add((byte)(0x84 | recursionDesired)); // a response, authoritative
        response.Add((byte)(0x80 | (nxDomain ? 3 : 0))); // recursion available; NXDOMAIN or NOERROR
        response.AddRange([.. UInt16(1), .. UInt16(answers.Count), .. UInt16(0), .. UInt16(additionals.Count)]);
        response.AddRange(query[12..position].ToArray());
        answers.ForEach(response.AddRange);
        additionals.ForEach(response.AddRange);
        return [.. response];
    }

    /// <summary>A resource record: its name (the question's, by pointer, when null), type, class IN, a 5-second TTL, its data.</summary>
    private static byte[] Record(string? name, ushort type, byte[] data) =>
        [.. name is null ? [0xC0, 0x0C] : Name(name), .. UInt16(type), .. UInt16(1), 0, 0, 0, 5, .. UInt16(data.Length), .. data];

    private static byte[] Name(string name) =>
        [.. name.TrimEnd('.').Split('.').SelectMany(label => new[] { (byte)label.Length }.Concat(Encoding.ASCII.GetBytes(label))), 0];

    private static byte[] UInt16(int value) => [(byte)(value >> 8), (byte)value];

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Dispose();
        await _loop;
    }

    private sealed record Zone(IPAddress[] Addresses, (int Priority, int Port, string Target)[] Srv, bool NxDomain, Dictionary<string, IPAddress[]>? GlueRecords = null)
    {
        public Dictionary<string, IPAddress[]> Glue => GlueRecords ?? [];
    }
}
