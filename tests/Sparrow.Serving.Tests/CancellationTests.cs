using Microsoft.Extensions.AI;
using Sparrow.Energy;
using Sparrow.Serving.Batching;
using Sparrow.Serving.Metrics;

namespace Sparrow.Serving.Tests;

/// <summary>Work whose requester has gone is dropped, not run; disposing twice is harmless.</summary>
public sealed class CancellationTests
{
    private static EmbeddingItem Item(string text, CancellationToken cancellation)
    {
        var ids = Models.MiniLm.Tokenizer.Encode(text, Models.MiniLm.MaxLength);
        return new EmbeddingItem(ids, EmbeddingItem.Bucket(ids.Length, Models.MiniLm.MaxLength)) { Cancellation = cancellation };
    }

    [Fact]
    public async Task A_cancelled_item_is_dropped_and_the_live_ones_still_run()
    {
        var metrics = new ServerMetrics();
        var options = new ServingOptions { MaxBatch = 8, MaxDelay = TimeSpan.Zero, CacheEntries = 0 };
        await using var batcher = new RequestBatcher(Models.MiniLm, options, metrics, EnergyMeters.CreateEstimate());
        using var gone = new CancellationTokenSource();
        await gone.CancelAsync();
        var abandoned = Enumerable.Range(0, 5).Select(i => Item($"nobody waits for text {i}", gone.Token)).ToArray();
        var live = Item("somebody waits for this one", CancellationToken.None);
        Assert.True(batcher.TryEnqueue([.. abandoned, live]));

        var embedding = await live.Result.Task;
        Models.AssertClose(Models.Embed("somebody waits for this one")[0], embedding);
        Assert.All(abandoned, a => Assert.True(a.Result.Task.IsCanceled));
        // Only the live text ran, and nothing is left counted in the queue.
        Assert.Equal(1, metrics.BatchSize.Sum);
        Assert.Equal(0, batcher.QueueLength);
    }

    [Fact]
    public async Task The_generator_refuses_a_cancelled_call_and_a_call_after_dispose_and_disposes_twice()
    {
        var generator = new SparrowEmbeddingGenerator(Models.MiniLm, maxBatch: 4);
        IEmbeddingGenerator<string, Embedding<float>> asInterface = generator;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => asInterface.GenerateAsync(["a text"], cancellationToken: new CancellationToken(true)));
        Assert.Single(await asInterface.GenerateAsync(["still works"]));
        generator.Dispose();
        generator.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => asInterface.GenerateAsync(["too late"]));
    }

    [Fact]
    public async Task A_request_with_more_texts_than_the_queue_holds_is_400_not_503()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { MaxQueue = 2, MaxInputsPerRequest = 8, CacheEntries = 0 });
        var (status, body) = await Models.PostAsync(server.Client, "v1/embeddings", Models.EmbeddingRequest("a", "b", "c"));
        Assert.Equal(400, status);
        Assert.Contains("at most 2", body);
    }
}
