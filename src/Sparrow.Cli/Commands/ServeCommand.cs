using System.CommandLine;
using System.Globalization;
using Sparrow.Serving;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow serve [MODEL.onnx]</c>: serves a model over HTTP (Kestrel, loopback by default) until Ctrl+C or SIGTERM:
/// OpenAI-compatible <c>POST /v1/embeddings</c>, <c>POST /v1/infer</c>, <c>GET /health</c>, <c>GET /metrics</c>; with
/// dynamic batching and a result cache. A model that does not load stops it before it listens.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(CommandContext context)
    {
        var defaults = new ServingOptions();
        var model = CommonOptions.ModelArgument("default: the embedded all-MiniLM-L6-v2, which serves /v1/embeddings");
        var host = new Option<string>("--host") { Description = "Address to listen on (loopback unless you mean to expose it).", DefaultValueFactory = _ => defaults.Host };
        var port = new Option<int>("--port") { Description = "Port to listen on (0: any free port, printed at start).", DefaultValueFactory = _ => defaults.Port };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most rows (texts, or the first dimension of tensor requests) run together in one model call; 1 turns batching off.", DefaultValueFactory = _ => defaults.MaxBatch };
        var maxDelay = new Option<double>("--max-delay-ms") { Description = "Milliseconds the first item of a batch waits for others.", DefaultValueFactory = _ => defaults.MaxDelay.TotalMilliseconds };
        var cacheSize = new Option<int>("--cache-size") { Description = "Results kept in the LRU cache (0: no cache).", DefaultValueFactory = _ => defaults.CacheEntries };
        var cacheMb = new Option<int>("--cache-mb") { Description = "Megabytes of results the cache keeps at most.", DefaultValueFactory = _ => (int)(defaults.CacheBytes >> 20) };
        var maxQueue = new Option<int>("--max-queue") { Description = "Items waiting at most; beyond, requests get 503.", DefaultValueFactory = _ => defaults.MaxQueue };
        var maxBodyKb = new Option<int>("--max-body-kb") { Description = "Largest request body in KB; larger ones get 413.", DefaultValueFactory = _ => (int)(defaults.MaxBodyBytes >> 10) };
        var maxInputs = new Option<int>("--max-inputs") { Description = "Most texts in one embeddings request; more get 400.", DefaultValueFactory = _ => defaults.MaxInputsPerRequest };
        var threads = CommonOptions.Threads();
        var sparseKernel = CommonOptions.SparseKernel();
        var command = new Command("serve", "Serves a model over HTTP until stopped (Ctrl+C): OpenAI-compatible POST /v1/embeddings, POST /v1/infer (named tensors as JSON), GET /health, GET /metrics (Prometheus); with dynamic batching and a result cache.")
        {
            model, host, port, maxBatch, maxDelay, cacheSize, cacheMb, maxQueue, maxBodyKb, maxInputs, threads, sparseKernel,
        };
        command.SetAction(parse =>
        {
            // Checked before TimeSpan sees it: NaN or a huge value would throw there, as an internal error.
            var maxDelayMs = parse.GetValue(maxDelay);
            CheckMaxDelay(maxDelayMs);
            var options = new ServingOptions
            {
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                MaxBatch = parse.GetValue(maxBatch),
                MaxDelay = TimeSpan.FromMilliseconds(maxDelayMs),
                CacheEntries = parse.GetValue(cacheSize),
                CacheBytes = (long)parse.GetValue(cacheMb) << 20,
                MaxQueue = parse.GetValue(maxQueue),
                MaxBodyBytes = (long)parse.GetValue(maxBodyKb) << 10,
                MaxInputsPerRequest = parse.GetValue(maxInputs),
            };
            return Run(context, parse.GetValue(model), options, parse.GetValue(threads), parse.GetValue(sparseKernel));
        });
        return command;
    }

    /// <summary>The longest batching delay accepted: a minute (longer only makes clients wait).</summary>
    internal const double MaxDelayLimitMs = 60_000;

    internal static void CheckMaxDelay(double maxDelayMs)
    {
        if (!(maxDelayMs >= 0 && maxDelayMs <= MaxDelayLimitMs))
            throw new UsageException($"--max-delay-ms must be 0 to {MaxDelayLimitMs.ToString(CultureInfo.InvariantCulture)}, got {maxDelayMs.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <summary>Checks the options the way the CLI reports them: as the option the user typed.</summary>
    internal static void Validate(ServingOptions options, double maxDelayMs)
    {
        if (!System.Net.IPAddress.TryParse(options.Host, out _)) throw new UsageException($"--host '{options.Host}' is not an IP address (e.g. 127.0.0.1).");
        if (options.Port is < 0 or > 65535) throw new UsageException($"--port must be 0 to 65535, got {options.Port}.");
        if (options.MaxBatch < 1) throw new UsageException($"--max-batch must be at least 1 (1: no batching), got {options.MaxBatch}.");
        CheckMaxDelay(maxDelayMs);
        if (options.CacheEntries < 0) throw new UsageException($"--cache-size cannot be negative (0: no cache), got {options.CacheEntries}.");
        if (options.CacheBytes < 0) throw new UsageException("--cache-mb cannot be negative.");
        if (options.MaxQueue < 1) throw new UsageException($"--max-queue must be at least 1, got {options.MaxQueue}.");
        if (options.MaxBodyBytes < 1) throw new UsageException("--max-body-kb must be at least 1.");
        if (options.MaxInputsPerRequest < 1) throw new UsageException($"--max-inputs must be at least 1, got {options.MaxInputsPerRequest}.");
    }

    /// <summary>What stopping did to the requests accepted: all answered, or some cut off by the shutdown timeout.</summary>
    internal static string ShutdownMessage(int cutOff) => cutOff == 0
        ? "Stopped; every accepted request was answered."
        : $"Stopped; the shutdown timeout ran out with {cutOff} request{(cutOff == 1 ? "" : "s")} still running: their clients may not have received an answer.";

    internal static int Run(CommandContext context, string? modelPath, ServingOptions options, int threads, string? sparseKernel, CancellationToken stop = default)
    {
        Validate(options, options.MaxDelay.TotalMilliseconds);
        var kernel = CommonOptions.ResolveSparseKernel(sparseKernel);
        var resolvedThreads = CommonOptions.ResolveThreads(threads);
        using var model = ServedModel.Load(modelPath, resolvedThreads, kernel);
        SparrowServer server;
        try
        {
            server = SparrowServer.StartAsync(model, options).GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            throw new UsageException(e.Message);
        }
        try
        {
            context.Info($"Serving [bold]{Markup.Escape(model.Name)}[/] at [bold]{Markup.Escape(server.Address.ToString())}[/] "
                + $"({(model.CanEmbed ? "POST /v1/embeddings, " : "")}POST /v1/infer, GET /health, GET /metrics). Press Ctrl+C to stop.");
            context.Detail(Markup.Escape($"batching: up to {options.MaxBatch} items or {options.MaxDelay.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms; "
                + $"cache: {(options.CacheEntries == 0 ? "off" : $"{options.CacheEntries} results, {options.CacheBytes >> 20} MB")}; queue: {options.MaxQueue} items; threads: {resolvedThreads}."));
            server.WaitForShutdownAsync(stop).GetAwaiter().GetResult();
            context.Info(ShutdownMessage(server.RequestsCutOff));
        }
        finally
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return ExitCodes.Success;
    }
}
