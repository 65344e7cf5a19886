using System.Text.Json;

namespace Sparrow.Serving.Tests;

/// <summary>Bad requests get a 4xx with a message that says what is wrong; a full queue gets 503; a bad model never serves.</summary>
public sealed class RobustnessTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(new ServingOptions { MaxBodyBytes = 4096, MaxInputsPerRequest = 4 });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string ErrorOf(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("error").GetProperty("message").GetString()!;
    }

    [Theory]
    [InlineData("{\"input\": [\"a\", ", "Malformed JSON")]
    [InlineData("[1, 2]", "JSON object")]
    [InlineData("{\"model\": \"m\"}", "'input' is missing")]
    [InlineData("{\"input\": 42}", "a string or a list of strings")]
    [InlineData("{\"input\": []}", "empty list")]
    [InlineData("{\"input\": [\"a\", 7]}", "'input'[1]")]
    [InlineData("{\"input\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}", "at most 4")]
    [InlineData("{\"input\": \"a\", \"encoding_format\": \"hex\"}", "encoding_format")]
    [InlineData("{\"input\": \"a\", \"dimensions\": 100}", "384")]
    [InlineData("{\"input\": \"a\", \"dimensions\": \"384\"}", "'dimensions'")]
    [InlineData("{\"input\": \"a\", \"dimensions\": true}", "'dimensions'")]
    [InlineData("{\"input\": \"a\\ud800b\"}", "'input' is not valid text")]
    [InlineData("{\"input\": [\"ok\", \"a\\ud800b\"]}", "'input'[1] is not valid text")]
    public async Task A_bad_embeddings_request_is_400_with_a_clear_message(string body, string message)
    {
        var (status, text) = await Models.PostAsync(_server.Client, "v1/embeddings", body);
        Assert.Equal(400, status);
        Assert.Contains(message, ErrorOf(text));
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413()
    {
        var (status, text) = await Models.PostAsync(_server.Client, "v1/embeddings", Models.EmbeddingRequest(new string('a', 5000)));
        Assert.Equal(413, status);
        Assert.Contains("4096", ErrorOf(text));
    }

    [Theory]
    [InlineData("{\"inputs\": {\"pixels\": {\"shape\": [1, 2], \"data\": [1, 2]}}}", "no input 'pixels'")]
    [InlineData("{\"inputs\": {\"input_ids\": {\"shape\": [1, 2], \"data\": [1, 2]}}}", "Missing input(s): attention_mask")]
    [InlineData("{\"inputs\": {\"input_ids\": {\"shape\": [1, 2, 1], \"data\": [1, 2]}, \"attention_mask\": {\"shape\": [1, 2], \"data\": [1, 1]}, \"token_type_ids\": {\"shape\": [1, 2], \"data\": [0, 0]}}}", "rank 2")]
    [InlineData("{\"inputs\": {\"input_ids\": {\"shape\": [1, 3], \"data\": [1, 2]}, \"attention_mask\": {\"shape\": [1, 2], \"data\": [1, 1]}, \"token_type_ids\": {\"shape\": [1, 2], \"data\": [0, 0]}}}", "holds 3 values")]
    [InlineData("{\"inputs\": {\"input_ids\": {\"shape\": [1, 2], \"data\": [1, 2], \"type\": \"float32\"}, \"attention_mask\": {\"shape\": [1, 2], \"data\": [1, 1]}, \"token_type_ids\": {\"shape\": [1, 2], \"data\": [0, 0]}}}", "is int64, not float32")]
    [InlineData("{\"inputs\": {\"input_ids\": {\"shape\": [1, 2], \"data\": [1, 2.5]}, \"attention_mask\": {\"shape\": [1, 2], \"data\": [1, 1]}, \"token_type_ids\": {\"shape\": [1, 2], \"data\": [0, 0]}}}", "data[1] = 2.5 is not a int64")]
    [InlineData("{\"tensors\": {}}", "'inputs'")]
    [InlineData("{\"inputs\": {\"input_ids\": {\"shape\": [1, 1], \"data\": [true]}, \"attention_mask\": {\"shape\": [1, 1], \"data\": [1]}, \"token_type_ids\": {\"shape\": [1, 1], \"data\": [0]}}}", "data[0] = True is not a int64")]
    public async Task A_bad_infer_request_is_400_with_a_clear_message(string body, string message)
    {
        var (status, text) = await Models.PostAsync(_server.Client, "v1/infer", body);
        Assert.Equal(400, status);
        Assert.Contains(message, ErrorOf(text));
    }

    [Fact]
    public async Task Infer_runs_the_model_on_named_tensors()
    {
        var body = "{\"inputs\": {\"input_ids\": {\"shape\": [1, 3], \"data\": [101, 7592, 102]}, \"attention_mask\": {\"shape\": [1, 3], \"data\": [1, 1, 1]}, \"token_type_ids\": {\"shape\": [1, 3], \"data\": [0, 0, 0]}}}";
        var (status, text) = await Models.PostAsync(_server.Client, "v1/infer", body);
        Assert.Equal(200, status);
        using var json = JsonDocument.Parse(text);
        var hidden = json.RootElement.GetProperty("outputs").GetProperty("last_hidden_state");
        Assert.Equal([1, 3, 384], hidden.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal(3 * 384, hidden.GetProperty("data").GetArrayLength());
        Assert.Equal("float32", hidden.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Health_and_metrics_answer()
    {
        var health = await _server.Client.GetStringAsync("health");
        Assert.Contains("\"status\":\"ok\"", health);
        await Models.PostAsync(_server.Client, "v1/embeddings", Models.EmbeddingRequest("metrics, please"));
        var metrics = await _server.MetricsAsync();
        foreach (var name in new[] { "sparrow_requests_total{endpoint=\"/v1/embeddings\",status=\"200\"}", "sparrow_request_duration_seconds_bucket", "sparrow_batch_size_bucket",
                     "sparrow_queue_length", "sparrow_cache_hits_total", "sparrow_cache_misses_total", "sparrow_cache_hit_ratio", "sparrow_energy_joules_per_request" })
            Assert.Contains(name, metrics);
        Assert.True(Models.Metric(metrics, "sparrow_energy_joules_per_request") > 0, metrics);
    }

    [Fact]
    public async Task A_full_queue_is_503()
    {
        // One item fills the queue; the long delay keeps it waiting for company while the second request arrives.
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxQueue = 2, MaxBatch = 64, MaxDelay = TimeSpan.FromSeconds(2), CacheEntries = 0 });
        var first = Task.Run(() => Models.PostAsync(server.Client, "v1/embeddings", Models.EmbeddingRequest("one", "two")));
        await Models.WaitUntilAsync(() => server.Server.QueueLength >= 2, "the first request's texts to queue");
        var (status, text) = await Models.PostAsync(server.Client, "v1/embeddings", Models.EmbeddingRequest("three"));
        Assert.Equal(503, status);
        Assert.Contains("queue is full", ErrorOf(text));
        Assert.Equal(200, (await first).Status);
    }

    [Fact]
    public void A_model_that_fails_to_load_says_so()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sparrow-serve-broken-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => ServedModel.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("failed to load", e.Message);
            var missing = Assert.Throws<InvalidDataException>(() => ServedModel.Load(path + ".missing"));
            Assert.Contains("not found", missing.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
