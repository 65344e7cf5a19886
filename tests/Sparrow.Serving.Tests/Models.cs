using System.Net.Http.Json;
using System.Text.Json;
using Sparrow.Data.Embeddings;
using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Graph.Onnx;
using Sparrow.Runtime;

namespace Sparrow.Serving.Tests;

/// <summary>
/// The embedded MiniLM, loaded once for all tests (servers share it; none owns it), and the reference embeddings:
/// <see cref="SentenceEmbedder"/> over a session of its own, which is how <c>sparrow embed</c> computes them.
/// </summary>
internal static class Models
{
    private static readonly Lazy<ServedModel> MiniLmModel = new(() => ServedModel.Load(null, threads: 2));
    private static readonly Lazy<SentenceEmbedder> Reference = new(() =>
    {
        var session = new InferenceSession(OnnxImporter.Load(DefaultModel.OnnxBytes, sourceName: DefaultModel.Name), new SessionOptions { IntraOpThreads = 2 });
        return new SentenceEmbedder(inputs => session.Run(inputs), SentenceTokenizer.Default, session.InputMetadata.Select(i => i.Name).ToArray());
    });
    private static readonly Lock ReferenceLock = new();

    public static ServedModel MiniLm => MiniLmModel.Value;

    /// <summary>Each text embedded alone, as <c>sparrow embed "text"</c> does.</summary>
    public static float[][] Embed(params string[] texts)
    {
        lock (ReferenceLock) return texts.Select(t => Reference.Value.Embed([t])[0]).ToArray();
    }

    public static void AssertClose(float[] expected, ReadOnlySpan<float> actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    public static async Task<(int Status, string Body)> PostAsync(HttpClient client, string path, string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(path, content);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static float[][] EmbeddingsOf(string responseJson)
    {
        using var json = JsonDocument.Parse(responseJson);
        return json.RootElement.GetProperty("data").EnumerateArray()
            .OrderBy(d => d.GetProperty("index").GetInt32())
            .Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
    }

    /// <summary>
    /// Waits for a condition the test needs before its next step (a request queued), failing rather than hanging when
    /// it never comes; the deadline is generous for a loaded machine and is no timing assertion.
    /// </summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Gave up waiting for {what}.");
            await Task.Delay(5);
        }
    }

    public static string EmbeddingRequest(params string[] texts) => JsonSerializer.Serialize(new { model = DefaultModel.Name, input = texts });

    /// <summary>A counter or gauge from the Prometheus text (the sum over its label sets).</summary>
    public static double Metric(string metrics, string name, string? labels = null) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + " ") || l.StartsWith(name + "{"))
            .Where(l => labels is null || l.Contains(labels))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>A server over MiniLM on a free loopback port, with a client pointed at it.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(SparrowServer server)
    {
        Server = server;
        Client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(120) };
    }

    public SparrowServer Server { get; }

    public HttpClient Client { get; }

    public static async Task<TestServer> StartAsync(ServingOptions? options = null) =>
        new(await SparrowServer.StartAsync(Models.MiniLm, (options ?? new ServingOptions()) with { Port = 0 }));

    public async Task<string> MetricsAsync() => await Client.GetStringAsync("metrics");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
