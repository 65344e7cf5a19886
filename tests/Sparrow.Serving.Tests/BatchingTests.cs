using System.Text.Json;

namespace Sparrow.Serving.Tests;

/// <summary>Concurrent requests run in shared batches, and every caller gets exactly its own rows.</summary>
public sealed class BatchingTests
{
    [Fact]
    public async Task Concurrent_callers_each_get_their_own_embeddings()
    {
        // Texts of different lengths land in different padding buckets; the delay lets requests gather.
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxBatch = 16, MaxDelay = TimeSpan.FromMilliseconds(30), CacheEntries = 0 });
        var requests = Enumerable.Range(0, 24).Select(i => i % 3 == 0
            ? new[] { $"request {i} asks one short thing" }
            : new[] { $"request {i}, first text", $"request {i} has a second and much longer text than the first one, to need another bucket" }).ToArray();
        var expected = requests.Select(r => Models.Embed(r)).ToArray();
        var responses = await Task.WhenAll(requests.Select(r => Task.Run(() => Models.PostAsync(server.Client, "v1/embeddings", Models.EmbeddingRequest(r)))));
        for (var i = 0; i < requests.Length; i++)
        {
            Assert.Equal(200, responses[i].Status);
            var got = Models.EmbeddingsOf(responses[i].Body);
            Assert.Equal(requests[i].Length, got.Length);
            for (var k = 0; k < got.Length; k++) Models.AssertClose(expected[i][k], got[k]);
        }
        var metrics = await server.MetricsAsync();
        var texts = requests.Sum(r => r.Length);
        Assert.Equal(texts, Models.Metric(metrics, "sparrow_batch_size_sum"));
        // Batching happened: fewer model calls than texts.
        Assert.True(Models.Metric(metrics, "sparrow_batch_size_count") < texts, metrics);
    }

    [Fact]
    public async Task Concurrent_tensor_requests_are_batched_and_split_back_by_row()
    {
        var model = Sparrow.Graph.Builders.SmallCnn.Build(imageSize: 8, classes: 5);
        using var served = ServedModel.FromModel(model, "small-cnn", threads: 1);
        using var reference = new Sparrow.Runtime.InferenceSession(model);
        await using var server = await SparrowServer.StartAsync(served, new ServingOptions { Port = 0, MaxBatch = 8, MaxDelay = TimeSpan.FromMilliseconds(30), CacheEntries = 0 });
        using var client = new HttpClient { BaseAddress = server.Address };
        var input = served.Inputs[0].Name;
        var random = new Random(5);
        var batches = Enumerable.Range(0, 12).Select(i => Enumerable.Range(0, (i % 2 + 1) * 3 * 8 * 8).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var responses = await Task.WhenAll(batches.Select(data => Task.Run(() => Models.PostAsync(client, "v1/infer",
            JsonSerializer.Serialize(new { inputs = new Dictionary<string, object> { [input] = new { shape = new[] { data.Length / 192, 3, 8, 8 }, data } } })))));
        for (var i = 0; i < batches.Length; i++)
        {
            Assert.True(responses[i].Status == 200, responses[i].Body);
            using var x = Sparrow.Tensors.Tensor<float>.FromArray(batches[i], batches[i].Length / 192, 3, 8, 8);
            var outputs = reference.Run(new Dictionary<string, Sparrow.Tensors.Tensor> { [input] = x });
            var (name, expected) = outputs.Single();
            using var json = JsonDocument.Parse(responses[i].Body);
            var output = json.RootElement.GetProperty("outputs").GetProperty(name);
            Assert.Equal(expected.CopyShape(), output.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            Models.AssertClose(((Sparrow.Tensors.Tensor<float>)expected).Span.ToArray(), output.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray(), 1e-4);
        }
        var metrics = await client.GetStringAsync("metrics");
        Assert.True(Models.Metric(metrics, "sparrow_batch_size_count") < batches.Length, metrics);
    }
}
