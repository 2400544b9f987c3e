using PluginProxy.TestKit;

namespace MyPlugin.Tests;

public class PrivatePathsTests
{
    [Fact]
    public async Task APrivatePath_Is403_AndNeverReachesTheServer()
    {
        HttpTestResult result = await HttpTest.RunAsync([new PrivatePaths()], HttpTest.Get("/private/keys"), ServerReply.Ok("secret"));

        Assert.Equal(403, result.Response.Status);
        Assert.Null(result.ServerRequest);
    }

    [Fact]
    public async Task OtherPaths_GoToTheServer()
    {
        HttpTestResult result = await HttpTest.RunAsync([new PrivatePaths()], HttpTest.Get("/public/page"), ServerReply.Ok("hello"));

        Assert.Equal(200, result.Response.Status);
        Assert.Equal("hello", result.Response.BodyText);
        Assert.Equal("/public/page", result.ServerRequest!.Target);
    }
}
