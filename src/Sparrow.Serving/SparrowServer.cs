using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sparrow.Energy;
using Sparrow.Serving.Batching;
using Sparrow.Serving.Http;
using Sparrow.Serving.Metrics;

namespace Sparrow.Serving;

/// <summary>
/// Serves a <see cref="ServedModel"/> over HTTP with Kestrel: <c>POST /v1/embeddings</c> (OpenAI-compatible),
/// <c>POST /v1/infer</c> (named tensors as JSON), <c>GET /health</c> and <c>GET /metrics</c> (Prometheus text).
/// Requests are batched dynamically and their results cached (see <see cref="ServingOptions"/>). Stopping finishes
/// every request already accepted before it returns.
/// </summary>
public sealed class SparrowServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly RequestBatcher _batcher;
    private readonly Lock _stopLock = new();
    private Task? _stopping;
    private readonly InFlight _inFlight;

    private SparrowServer(WebApplication app, RequestBatcher batcher, ServedModel model, ServingOptions options, Uri address, ServerMetrics metrics, ServingCaches caches, InFlight inFlight)
    {
        _app = app;
        _inFlight = inFlight;
        _batcher = batcher;
        Model = model;
        Options = options;
        Address = address;
        Metrics = metrics;
        Caches = caches;
    }

    /// <summary>The model served.</summary>
    public ServedModel Model { get; }

    /// <summary>The options the server runs with.</summary>
    public ServingOptions Options { get; }

    /// <summary>The base address the server listens on, e.g. <c>http://127.0.0.1:8080/</c> (the real port when 0 was asked for).</summary>
    public Uri Address { get; }

    /// <summary>Items accepted and waiting to run.</summary>
    public int QueueLength => _batcher.QueueLength;

    internal ServerMetrics Metrics { get; }

    internal ServingCaches Caches { get; }

    /// <summary>
    /// Requests that stopping cut off from their clients: aborted while the server stopped (the shutdown timeout ran
    /// out), or still running after it. Known once <see cref="StopAsync"/> has completed; 0 before.
    /// </summary>
    internal int RequestsCutOff { get; private set; }

    /// <summary>Requests inside the pipeline now.</summary>
    internal int RequestsInFlight => _inFlight.Count;

    /// <summary>Counts requests inside the pipeline, and those that end aborted once the server is stopping.</summary>
    internal sealed class InFlight
    {
        private int _count;
        private int _abortedWhileStopping;
        private volatile bool _stopping;

        public int Count => Volatile.Read(ref _count);

        public int AbortedWhileStopping => Volatile.Read(ref _abortedWhileStopping);

        public void Stopping() => _stopping = true;

        public void Enter() => Interlocked.Increment(ref _count);

        public void Leave(bool aborted)
        {
            if (aborted && _stopping) Interlocked.Increment(ref _abortedWhileStopping);
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Starts serving <paramref name="model"/>; returns once the server listens.</summary>
    /// <exception cref="IOException">The address is in use or cannot be bound.</exception>
    public static async Task<SparrowServer> StartAsync(ServedModel model, ServingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ServingOptions();
        options.Validate();
        // Decided once, before the first request: whether /v1/infer requests may be batched for this model.
        if (options.MaxBatch > 1) _ = model.RowsAreIndependent;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Parse(options.Host), options.Port);
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();

        var metrics = new ServerMetrics();
        var energy = EnergyMeters.CreateEstimate();
        var caches = new ServingCaches(options.CacheEntries, options.CacheBytes);
        var batcher = new RequestBatcher(model, options, metrics, energy);
        var endpoints = new Endpoints(model, options, batcher, caches);
        var energyMethod = $"estimated from CPU time at {energy.Cpu.WattsPerCore:0.##} W per core";

        var inFlight = new InFlight();
        app.Use(async (context, next) =>
        {
            inFlight.Enter();
            var connectionLost = true;
            try
            {
                connectionLost = !await HandleAsync(context, next);
            }
            finally
            {
                inFlight.Leave(connectionLost || context.RequestAborted.IsCancellationRequested || !context.Response.HasStarted);
            }
        });

        // Returns false when the connection was lost under the request (a body cut short, an abort): a stopping host
        // closes connections, and the read can fail before RequestAborted is signalled.
        async Task<bool> HandleAsync(HttpContext context, RequestDelegate next)
        {
            var start = Stopwatch.GetTimestamp();
            var connectionLost = false;
            try
            {
                await next(context);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or Microsoft.AspNetCore.Http.BadHttpRequestException)
            {
                connectionLost = true;
                if (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
                    await Endpoints.WriteErrorAsync(context, 400, $"The request could not be read: {e.Message}");
            }
            catch (RequestException e)
            {
                if (!context.Response.HasStarted) await Endpoints.WriteErrorAsync(context, e.Status, e.Message);
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
            {
                await Endpoints.WriteErrorAsync(context, 500, $"The model failed on this request: {e.Message}");
            }
            var path = context.Request.Path.Value ?? "";
            var endpoint = path is "/v1/embeddings" or "/v1/infer" or "/health" or "/metrics" ? path : "other";
            metrics.CountRequest(endpoint, context.Response.StatusCode);
            if (endpoint is "/v1/embeddings" or "/v1/infer") metrics.Latency.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            return !connectionLost;
        }

        app.MapPost("/v1/embeddings", endpoints.EmbeddingsAsync);
        app.MapPost("/v1/infer", endpoints.InferAsync);
        app.MapGet("/health", endpoints.HealthAsync);
        app.MapGet("/metrics", async context =>
        {
            var text = metrics.Render(batcher.QueueLength, caches.Hits, caches.Misses, caches.Embeddings.Count + caches.Responses.Count,
                caches.Embeddings.Bytes + caches.Responses.Bytes, energyMethod);
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await context.Response.WriteAsync(text, context.RequestAborted);
        });

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception e)
        {
            await batcher.DisposeAsync();
            await app.DisposeAsync();
            if (e is IOException) throw new IOException($"Cannot listen on {options.Host}:{options.Port}: {e.Message}", e);
            throw;
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SparrowServer(app, batcher, model, options, new Uri(bound.EndsWith('/') ? bound : bound + "/"), metrics, caches, inFlight);
    }

    /// <summary>
    /// Waits until the server is asked to stop (Ctrl+C, SIGTERM, <see cref="StopAsync"/>, or <paramref name="cancellationToken"/>),
    /// then stops it gracefully (see <see cref="StopAsync"/>) and completes once it has stopped.
    /// </summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken = default)
    {
        var lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStopping.Register(() => stopping.TrySetResult()))
        using (cancellationToken.Register(() => stopping.TrySetResult()))
            await stopping.Task;
        await StopAsync();
    }

    /// <summary>
    /// Stops listening, lets every request already accepted finish (up to <see cref="ServingOptions.ShutdownTimeout"/>),
    /// then stops the batching worker once the queue is empty.
    /// </summary>
    public Task StopAsync()
    {
        lock (_stopLock) return _stopping ??= StopCoreAsync();
    }

    private async Task StopCoreAsync()
    {
        _inFlight.Stopping();
        // Queued items stop waiting for company: the requests they belong to are what the host now waits for.
        _batcher.Flush();
        await _app.StopAsync();
        await _batcher.DisposeAsync();
        // Every item has run; handlers still inside the pipeline only write their answers (to connections the host
        // may have closed). Give them a moment, then count what did not reach its client.
        for (var wait = 0; wait < 200 && _inFlight.Count > 0; wait++) await Task.Delay(10);
        RequestsCutOff = _inFlight.AbortedWhileStopping + _inFlight.Count;
    }

    /// <summary>Stops (see <see cref="StopAsync"/>) and releases the host; the model stays the caller's.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
