using OpenTelemetry.Exporter;
using PluginProxy.Host.Metrics;

namespace PluginProxy.Host.Configuration;

/// <summary>The OpenTelemetry keys of [global]: <c>otlp_endpoint</c>, <c>otlp_protocol</c>, <c>otlp_interval</c>, <c>tracing</c>, <c>trace_sample_ratio</c>.</summary>
internal static class TelemetryKeys
{
    public static readonly string[] Keys = ["otlp_endpoint", "otlp_protocol", "otlp_interval", "tracing", "trace_sample_ratio"];

    /// <summary>Where OTLP exports go, or null when <c>otlp_endpoint</c> is not set.</summary>
    public static OtlpTarget? ReadOtlp(TableReader table)
    {
        var protocolText = table.SpottedString("otlp_protocol", what: "\"http/protobuf\" or \"grpc\"");
        TimeSpan interval = table.Duration("otlp_interval", TimeSpan.FromMilliseconds(100)) ?? TimeSpan.FromSeconds(10);
        if (table.SpottedString("otlp_endpoint", what: "a URL such as \"http://127.0.0.1:4318\"") is not { } endpoint)
        {
            if (protocolText is { } unused)
            {
                table.Error(unused.Spot, "`otlp_protocol` has no use without `otlp_endpoint`: set it (for example \"http://127.0.0.1:4318\") or remove this key");
            }

            return null;
        }

        OtlpExportProtocol protocol = OtlpExportProtocol.HttpProtobuf;
        if (protocolText is { } written)
        {
            switch (written.Value)
            {
                case "http/protobuf":
                    break;
                case "grpc":
                    protocol = OtlpExportProtocol.Grpc;
                    break;
                default:
                    table.Error(written.Spot, $"`otlp_protocol`: \"{written.Value}\" is not a protocol; use \"http/protobuf\" (port 4318) or \"grpc\" (port 4317)");
                    return null;
            }
        }

        if (!Uri.TryCreate(endpoint.Value, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            table.Error(endpoint.Spot, $"`otlp_endpoint`: \"{endpoint.Value}\" is not an http or https URL such as \"http://127.0.0.1:4318\"");
            return null;
        }

        return new OtlpTarget(uri, protocol, interval);
    }
}
