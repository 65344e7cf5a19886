namespace Sparrow.Serving.Tests;

/// <summary>A cache hit returns the same bytes; the cache is bounded and can be off; stopping drops no accepted request.</summary>
public sealed class CacheAndShutdownTests
{
    [Fact]
    public async Task A_cache_hit_returns_the_same_bytes_and_is_counted()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { CacheEntries = 16 });
        var request = Models.EmbeddingRequest("cached sentence", "another cached sentence");
        var first = await Models.PostAsync(server.Client, "v1/embeddings", request);
        var second = await Models.PostAsync(server.Client, "v1/embeddings", request);
        Assert.Equal(200, second.Status);
        Assert.Equal(first.Body, second.Body);
        var metrics = await server.MetricsAsync();
        Assert.Equal(2, Models.Metric(metrics, "sparrow_cache_hits_total"));
        Assert.Equal(2, Models.Metric(metrics, "sparrow_cache_misses_total"));
        Assert.Equal(0.5, Models.Metric(metrics, "sparrow_cache_hit_ratio"));

        var infer = "{\"inputs\": {\"input_ids\": {\"shape\": [1, 3], \"data\": [101, 7592, 102]}, \"attention_mask\": {\"shape\": [1, 3], \"data\": [1, 1, 1]}, \"token_type_ids\": {\"shape\": [1, 3], \"data\": [0, 0, 0]}}}";
        var a = await Models.PostAsync(server.Client, "v1/infer", infer);
        var b = await Models.PostAsync(server.Client, "v1/infer", infer);
        Assert.Equal(a.Body, b.Body);
        Assert.Equal(3, Models.Metric(await server.MetricsAsync(), "sparrow_cache_hits_total"));
    }

    [Fact]
    public async Task Cache_size_0_turns_the_cache_off()
    {
        await using var server = await TestServer.StartAsync(new ServingOptions { CacheEntries = 0 });
        var request = Models.EmbeddingRequest("not cached");
        await Models.PostAsync(server.Client, "v1/embeddings", request);
        await Models.PostAsync(server.Client, "v1/embeddings", request);
        var metrics = await server.MetricsAsync();
        Assert.Equal(0, Models.Metric(metrics, "sparrow_cache_hits_total"));
        Assert.Equal(2, Models.Metric(metrics, "sparrow_items_run_total"));
    }

    [Fact]
    public void The_cache_is_bounded_in_entries_and_bytes_and_evicts_the_least_recently_used()
    {
        var cache = new Caching.ResultCache<byte[]>(maxEntries: 3, maxBytes: 100, v => v.Length);
        Caching.CacheKey Key(int i) => Caching.CacheKey.Of("model", "test", i.ToString());
        for (var i = 0; i < 3; i++) cache.Add(Key(i), new byte[10]);
        Assert.True(cache.TryGet(Key(0), out _)); // 0 is now the most recent
        cache.Add(Key(3), new byte[10]);
        Assert.Equal(3, cache.Count);
        Assert.False(cache.TryGet(Key(1), out _)); // the least recently used went
        Assert.True(cache.TryGet(Key(0), out _));
        cache.Add(Key(4), new byte[90]); // bytes: evicts until it fits
        Assert.True(cache.Bytes <= 100);
        Assert.True(cache.TryGet(Key(4), out _));
        cache.Add(Key(5), new byte[101]); // larger than the whole cache: not kept
        Assert.False(cache.TryGet(Key(5), out _));
        Assert.NotEqual(Caching.CacheKey.Of("model", "test", "a"), Caching.CacheKey.Of("other model", "test", "a"));
    }

    [Fact]
    public async Task Stopping_finishes_every_accepted_request()
    {
        // The long delay holds every text in the queue until the stop (which stops the batcher waiting for more).
        var server = await TestServer.StartAsync(new ServingOptions { MaxBatch = 64, MaxDelay = TimeSpan.FromSeconds(60), CacheEntries = 0 });
        var texts = Enumerable.Range(0, 10).Select(i => $"in flight {i}").ToArray();
        var pending = texts.Select(t => Task.Run(() => Models.PostAsync(server.Client, "v1/embeddings", Models.EmbeddingRequest(t)))).ToArray();
        // All accepted and waiting in the queue before the stop.
        await Models.WaitUntilAsync(() => server.Server.QueueLength >= texts.Length, "every text to queue");
        var stop = server.Server.StopAsync();
        var responses = await Task.WhenAll(pending);
        await stop;
        Assert.Equal(0, server.Server.RequestsCutOff);
        var expected = Models.Embed(texts);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(200, responses[i].Status);
            Models.AssertClose(expected[i], Models.EmbeddingsOf(responses[i].Body)[0]);
        }
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => server.Client.GetStringAsync("health"));
        await server.DisposeAsync();
    }
}
