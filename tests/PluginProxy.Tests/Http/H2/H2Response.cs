using System.Text;

namespace PluginProxy.Tests.Http.H2;

/// <summary>A response as <see cref="H2FrameClient.ReadResponseAsync"/> collects it.</summary>
internal sealed record H2Response(int Status, List<(string Name, string Value)> Fields, byte[] Body, List<(string Name, string Value)> Trailers)
{
    public string Text => Encoding.Latin1.GetString(Body);

    public string? Field(string name) => Fields.FirstOrDefault(f => f.Name == name).Value;
}
