using System.Text.Json;
using Sparrow.Graph;
using Sparrow.Serving.Batching;
using Sparrow.Tensors;

namespace Sparrow.Serving.Tests;

/// <summary>
/// A request that makes the model fail fails alone, and as a bad request; /v1/infer batches only requests it can
/// batch (rows present, a model that keeps rows apart), and MaxBatch counts rows.
/// </summary>
public sealed class FailureIsolationTests
{
    /// <summary>A long delay: batches below fill by their row limit, never by waiting (no timing in the tests).</summary>
    private static readonly TimeSpan LongDelay = TimeSpan.FromSeconds(60);

    private static string MiniLmInfer(params long[][] rows)
    {
        var length = rows[0].Length;
        var ids = rows.SelectMany(r => r).ToArray();
        int[] shape = [rows.Length, length];
        return JsonSerializer.Serialize(new
        {
            inputs = new Dictionary<string, object>
            {
                ["input_ids"] = new { shape, data = ids },
                ["attention_mask"] = new { shape, data = ids.Select(_ => 1L).ToArray() },
                ["token_type_ids"] = new { shape, data = ids.Select(_ => 0L).ToArray() },
            },
        });
    }

    private static string ErrorOf(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("error").GetProperty("message").GetString()!;
    }

    [Fact]
    public async Task An_out_of_range_token_fails_only_its_own_request_in_a_batch()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxBatch = 3, MaxDelay = LongDelay, CacheEntries = 0 });
        long[][] good = [[101, 7592, 102], [101, 2088, 102]];
        long[] bad = [101, 99_999_999, 102];
        var requests = new[] { MiniLmInfer(good[0]), MiniLmInfer(bad), MiniLmInfer(good[1]) };
        var responses = await Task.WhenAll(requests.Select(r => Task.Run(() => Models.PostAsync(server.Client, "v1/infer", r))));

        Assert.True(responses[1].Status == 400, responses[1].Body);
        Assert.Contains("out of range", ErrorOf(responses[1].Body));
        foreach (var (k, response) in new[] { (0, responses[0]), (1, responses[2]) })
        {
            Assert.True(response.Status == 200, response.Body);
            // Each valid request gets exactly what it gets alone.
            using var ids = Tensor<long>.FromArray(good[k], 1, 3);
            using var mask = Tensor<long>.FromArray([1, 1, 1], 1, 3);
            using var types = Tensor<long>.FromArray([0, 0, 0], 1, 3);
            var expected = Models.MiniLm.Session.Run(new Dictionary<string, Tensor> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types });
            using var json = JsonDocument.Parse(response.Body);
            foreach (var (name, tensor) in expected)
            {
                var output = json.RootElement.GetProperty("outputs").GetProperty(name);
                Assert.Equal(tensor.CopyShape(), output.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray());
                Models.AssertClose(((Tensor<float>)tensor).Span.ToArray(), output.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray(), 1e-4);
                tensor.Dispose();
            }
        }
        // The three shared one batch (one group of 3 rows), so the bad one was run among the good ones.
        var metrics = await server.MetricsAsync();
        Assert.Equal(1, Models.Metric(metrics, "sparrow_batch_size_count"));
        Assert.Equal(3, Models.Metric(metrics, "sparrow_batch_size_sum"));
    }

    [Fact]
    public async Task A_request_that_makes_the_model_fail_alone_is_a_400_with_the_reason()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxBatch = 1, CacheEntries = 0 });
        var (status, body) = await Models.PostAsync(server.Client, "v1/infer", MiniLmInfer([101, -5_000_000, 102]));
        Assert.True(status == 400, body);
        Assert.Contains("out of range", ErrorOf(body));
        using var json = JsonDocument.Parse(body);
        Assert.Equal("invalid_request_error", json.RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task An_input_with_no_rows_is_a_400()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { CacheEntries = 0 });
        var empty = "{\"inputs\": {\"input_ids\": {\"shape\": [0, 3], \"data\": []}, \"attention_mask\": {\"shape\": [0, 3], \"data\": []}, \"token_type_ids\": {\"shape\": [0, 3], \"data\": []}}}";
        var (status, body) = await Models.PostAsync(server.Client, "v1/infer", empty);
        Assert.True(status == 400, body);
        Assert.Contains("first dimension is 0", ErrorOf(body));
    }

    [Fact]
    public async Task Max_batch_counts_rows_not_requests()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxBatch = 2, MaxDelay = LongDelay, CacheEntries = 0 });
        // One row waits for company; a two-row request would make three rows: it runs in a batch of its own.
        var first = Task.Run(() => Models.PostAsync(server.Client, "v1/infer", MiniLmInfer([101, 7592, 102])));
        await Models.WaitUntilAsync(() => server.Server.QueueLength == 1, "the first request to queue");
        var second = await Models.PostAsync(server.Client, "v1/infer", MiniLmInfer([101, 2088, 102], [101, 2003, 102]));
        Assert.True(second.Status == 200, second.Body);
        Assert.Equal(200, (await first).Status);
        var metrics = await server.MetricsAsync();
        Assert.Equal(2, Models.Metric(metrics, "sparrow_batch_size_count"));
        Assert.Equal(3, Models.Metric(metrics, "sparrow_batch_size_sum"));
    }

    /// <summary>Y = X - mean of X over the batch: its first dimension is dynamic, but its rows depend on each other.</summary>
    private static Model RowMixingModel()
    {
        var graph = new ModelGraph { Name = "row_mixing" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, [Dimension.Named("batch"), Dimension.Fixed(4)]));
        graph.Nodes.Add(new Node("ReduceMean", ["x"], ["mean"], "mean") { Attributes = { NodeAttribute.Ints("axes", [0]), NodeAttribute.Int("keepdims", 1) } });
        graph.Nodes.Add(new Node("Sub", ["x", "mean"], ["y"], "centre"));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, [Dimension.Named("batch"), Dimension.Fixed(4)]));
        var model = new Model(graph) { IrVersion = 8 };
        model.OpsetImports[""] = 13;
        return model;
    }

    [Fact]
    public void The_probe_tells_models_that_keep_rows_apart_from_models_that_mix_them()
    {
        Assert.True(RowIndependenceProbe.Check(Models.MiniLm.Session));
        using var mixing = ServedModel.FromModel(RowMixingModel(), "row-mixing", threads: 1);
        Assert.False(RowIndependenceProbe.Check(mixing.Session));
        Assert.False(mixing.RowsAreIndependent);
    }

    [Fact]
    public async Task Requests_to_a_model_that_mixes_rows_are_not_batched()
    {
        using var mixing = ServedModel.FromModel(RowMixingModel(), "row-mixing", threads: 1);
        await using var server = await SparrowServer.StartAsync(mixing, new ServingOptions { Port = 0, MaxBatch = 2, MaxDelay = LongDelay, CacheEntries = 0 });
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(120) };
        float[][] rows = [[1, 2, 3, 4], [10, 20, 30, 40]];
        var responses = await Task.WhenAll(rows.Select(data => Task.Run(() => Models.PostAsync(client, "v1/infer",
            JsonSerializer.Serialize(new { inputs = new { x = new { shape = new[] { 1, 4 }, data } } })))));
        foreach (var (status, body) in responses)
        {
            Assert.True(status == 200, body);
            using var json = JsonDocument.Parse(body);
            // Alone, a row minus its own mean over the batch is 0; batched with another row it would not be.
            var y = json.RootElement.GetProperty("outputs").GetProperty("y").GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Models.AssertClose(new float[4], y);
        }
    }

    [Fact]
    public async Task Stopping_reports_requests_the_shutdown_timeout_cut_off()
    {
        // A request whose body never finishes arriving is still running when the host, given no time, stops.
        var server = await TestServer.StartAsync(new ServingOptions { CacheEntries = 0, ShutdownTimeout = TimeSpan.Zero });
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.Server.Address.Host, server.Server.Address.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"POST /v1/infer HTTP/1.1\r\nHost: {server.Server.Address.Authority}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"inputs\": "));
        await stream.FlushAsync();
        await Models.WaitUntilAsync(() => server.Server.RequestsInFlight == 1, "the request to reach the server");
        await server.Server.StopAsync();
        Assert.Equal(1, server.Server.RequestsCutOff);
        await server.DisposeAsync();
    }
}
