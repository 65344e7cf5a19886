using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sparrow.Cli.Execution;
using Sparrow.Serving;
using Spectre.Console;
using static Sparrow.Cli.Execution.BenchOutput;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow bench serve [MODEL.onnx ...]</c>: a load test of <c>sparrow serve</c> on loopback. For each model, a server
/// with batching off (<c>--max-batch 1</c>) and one with batching on take turns (off, on; then on, off) while
/// <c>--clients</c> concurrent clients post one short sentence per request to <c>/v1/embeddings</c>, cache off; each
/// turn is bounded by <c>--requests</c> and <c>--max-seconds</c>. Reports throughput, p50/p99 latency, the mean batch
/// and the process CPU time per request (server and clients share the process).
/// </summary>
internal static class ServeBenchCommand
{
    private static readonly string[] Sentences =
    [
        "A sparrow sings at dawn.", "Sparse networks skip the zeros.", "The server batches requests.", "Energy costs money and carbon.",
        "Short sentences embed quickly.", "Caching saves repeated work.", "The cat sat on the mat.", "Latency matters to users.",
    ];

    public static Command Create(CommandContext context)
    {
        var models = new Argument<string[]>("models") { Description = "Sentence encoders (.onnx) to serve in turn (default: the embedded all-MiniLM-L6-v2).", Arity = ArgumentArity.ZeroOrMore };
        var clients = new Option<int>("--clients") { Description = "Concurrent clients, each posting one sentence per request and waiting for the answer.", DefaultValueFactory = _ => 32 };
        var requests = new Option<int>("--requests") { Description = "Timed requests per model, batching setting and round, at most.", DefaultValueFactory = _ => 320 };
        var maxSeconds = new Option<double>("--max-seconds") { Description = "Seconds per model, batching setting and round, at most (the turn stops at whichever limit comes first).", DefaultValueFactory = _ => 30.0 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds; the order of batching off and on alternates between rounds.", DefaultValueFactory = _ => 2 };
        var maxBatch = new Option<int>("--max-batch") { Description = "--max-batch of the server with batching on.", DefaultValueFactory = _ => 32 };
        var maxDelay = new Option<double>("--max-delay-ms") { Description = "--max-delay-ms of the server with batching on.", DefaultValueFactory = _ => 5.0 };
        var threads = CommonOptions.Threads();
        var json = JsonOutput.Option();
        var command = new Command("serve", "Load-tests sparrow serve on loopback: concurrent clients against batching off and on, per model; throughput and p50/p99 latency.")
        {
            models, clients, requests, maxSeconds, rounds, maxBatch, maxDelay, threads, json,
        };
        command.SetAction(parse => Run(context, parse.GetValue(models) ?? [], parse.GetValue(clients), parse.GetValue(requests), parse.GetValue(maxSeconds),
            parse.GetValue(rounds), parse.GetValue(maxBatch), parse.GetValue(maxDelay), parse.GetValue(threads), JsonOutput.Target(parse, json)));
        return command;
    }

    internal sealed record Turn(string Model, bool Batching, int Requests, double Seconds, List<double> LatenciesMs, double CpuSeconds, double BatchSizeSum, double Batches,
        double ModelBusySeconds);

    internal static int Run(CommandContext context, string[] modelPaths, int clients, int requests, double maxSeconds, int rounds, int maxBatch, double maxDelayMs,
        int threads, string? json)
    {
        if (clients < 1) throw new UsageException($"--clients must be at least 1, got {clients}.");
        if (requests < 1) throw new UsageException($"--requests must be at least 1, got {requests}.");
        if (!(maxSeconds > 0)) throw new UsageException("--max-seconds must be more than 0.");
        if (rounds < 1) throw new UsageException($"--rounds must be at least 1, got {rounds}.");
        if (maxBatch < 2) throw new UsageException($"--max-batch must be at least 2 (batching on), got {maxBatch}.");
        if (maxDelayMs < 0) throw new UsageException("--max-delay-ms cannot be negative.");
        foreach (var path in modelPaths)
            if (!File.Exists(path)) throw new UsageException($"{path}: file not found.");
        var resolvedThreads = CommonOptions.ResolveThreads(threads);
        var paths = modelPaths.Length == 0 ? new string?[] { null } : modelPaths.Select(p => (string?)p).ToArray();
        var turns = new List<Turn>();
        context.Progress("Load test", paths.Length * rounds * 2, step =>
        {
            foreach (var path in paths)
            {
                using var model = ServedModel.Load(path, resolvedThreads);
                if (!model.CanEmbed) throw new UsageException($"{path}: not a sentence encoder; the load test posts to /v1/embeddings.");
                var label = path is null ? model.Name : Path.GetFileName(path);
                for (var round = 0; round < rounds; round++)
                {
                    bool[] order = round % 2 == 0 ? [false, true] : [true, false];
                    foreach (var batching in order)
                    {
                        var options = new ServingOptions
                        {
                            Port = 0, CacheEntries = 0, MaxQueue = Math.Max(1024, clients * 4),
                            MaxBatch = batching ? maxBatch : 1, MaxDelay = batching ? TimeSpan.FromMilliseconds(maxDelayMs) : TimeSpan.Zero,
                        };
                        turns.Add(RunTurnAsync(model, label, batching, options, clients, requests, maxSeconds).GetAwaiter().GetResult());
                        step.Advance($"{label}, batching {(batching ? "on" : "off")}, round {round + 1}");
                    }
                }
            }
            return 0;
        });

        var rows = turns.GroupBy(t => (t.Model, t.Batching)).Select(g =>
        {
            var latencies = g.SelectMany(t => t.LatenciesMs).OrderBy(x => x).ToArray();
            var count = g.Sum(t => t.Requests);
            return new
            {
                model = g.Key.Model,
                batching = g.Key.Batching ? "on" : "off",
                requests = count,
                seconds = g.Sum(t => t.Seconds),
                requestsPerSecond = count / g.Sum(t => t.Seconds),
                p50Ms = BenchStats.Percentile(latencies, 0.50),
                p99Ms = BenchStats.Percentile(latencies, 0.99),
                meanBatch = g.Sum(t => t.BatchSizeSum) / Math.Max(1, g.Sum(t => t.Batches)),
                cpuMsPerRequest = g.Sum(t => t.CpuSeconds) * 1000 / count,
                // Wall time of model calls per request, and the share of the turn the model was busy: near 100% the
                // model is the bottleneck; well below it, the requests' own path (HTTP, JSON, clients) is.
                modelMsPerRequest = g.Sum(t => t.ModelBusySeconds) * 1000 / count,
                modelBusyPercent = 100 * g.Sum(t => t.ModelBusySeconds) / g.Sum(t => t.Seconds),
            };
        }).ToArray();
        var results = new
        {
            command = context.CommandLine, machine = Machine(resolvedThreads), clients, requestsPerTurn = requests, maxSeconds, rounds, maxBatch, maxDelayMs,
            sentence = "one short sentence per request (5-7 words), cache off", rows,
        };
        JsonOutput.Write(context, json, results, () =>
        {
            var table = new Table().AddColumns("model", "batching", "requests", "req/s", "p50 ms", "p99 ms", "mean batch", "CPU ms/req", "model ms/req", "model busy");
            foreach (var r in rows)
                table.AddRow(Markup.Escape(r.model), r.batching, r.requests.ToString(CultureInfo.InvariantCulture), r.requestsPerSecond.ToString("0.0", CultureInfo.InvariantCulture),
                    Ms(r.p50Ms), Ms(r.p99Ms), r.meanBatch.ToString("0.0", CultureInfo.InvariantCulture), Ms(r.cpuMsPerRequest),
                    Ms(r.modelMsPerRequest), r.modelBusyPercent.ToString("0", CultureInfo.InvariantCulture) + "%");
            context.Console.Write(table);
            foreach (var g in rows.GroupBy(r => r.model))
            {
                var off = g.First(r => r.batching == "off");
                var on = g.First(r => r.batching == "on");
                context.Console.MarkupLine($"{Markup.Escape(g.Key)}: batching raises throughput {Ratio(on.requestsPerSecond / off.requestsPerSecond)} at {clients} clients.");
            }
        });
        return ExitCodes.Success;
    }

    private static async Task<Turn> RunTurnAsync(ServedModel model, string label, bool batching, ServingOptions options, int clients, int requests, double maxSeconds)
    {
        await using var server = await SparrowServer.StartAsync(model, options);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(2) };
        // Warm-up: connections opened, code jitted, the batcher busy once; not timed.
        await Load(http, clients, clients * 2, TimeSpan.FromSeconds(maxSeconds), new List<double>(), 1_000_000);
        var metricsBefore = await http.GetStringAsync("metrics");
        var latencies = new List<double>(requests);
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        var done = await Load(http, clients, requests, TimeSpan.FromSeconds(maxSeconds), latencies, 0);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds;
        var metricsAfter = await http.GetStringAsync("metrics");
        double Metric(string text, string name) => text.Split('\n').Where(l => l.StartsWith(name + " ")).Select(l => double.Parse(l[(name.Length + 1)..], CultureInfo.InvariantCulture)).Sum();
        return new Turn(label, batching, done, seconds, latencies, cpu,
            Metric(metricsAfter, "sparrow_batch_size_sum") - Metric(metricsBefore, "sparrow_batch_size_sum"),
            Metric(metricsAfter, "sparrow_batch_size_count") - Metric(metricsBefore, "sparrow_batch_size_count"),
            Metric(metricsAfter, "sparrow_model_busy_seconds_total") - Metric(metricsBefore, "sparrow_model_busy_seconds_total"));
    }

    /// <summary>Clients post until <paramref name="requests"/> have been sent or the time is up; returns the requests answered.</summary>
    private static async Task<int> Load(HttpClient http, int clients, int requests, TimeSpan limit, List<double> latencies, int firstId)
    {
        var next = -1;
        var answered = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var id = Interlocked.Increment(ref next);
                if (id >= requests || Stopwatch.GetTimestamp() > deadline) return;
                var body = JsonSerializer.Serialize(new { model = "bench", input = $"{Sentences[id % Sentences.Length]} ({firstId + id})" });
                var start = Stopwatch.GetTimestamp();
                using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                using var response = await http.PostAsync("v1/embeddings", content);
                await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"the server answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                lock (latencies) latencies.Add(ms);
                Interlocked.Increment(ref answered);
            }
        })).ToArray();
        await Task.WhenAll(workers);
        return answered;
    }
}
