using System.Collections.Concurrent;
using System.Text;

namespace Sparrow.Serving.Metrics;

/// <summary>
/// What <c>GET /metrics</c> reports, in the Prometheus text format: requests by endpoint and status, request latency,
/// batch sizes, the queue, the cache and the estimated energy of the batches per item served.
/// </summary>
internal sealed class ServerMetrics
{
    private readonly ConcurrentDictionary<(string Endpoint, int Status), long> _requests = new();
    private readonly Lock _energyLock = new();
    private double _joules;
    private long _itemsRun;
    private double _busySeconds;

    public Histogram Latency { get; } = new("sparrow_request_duration_seconds", "Time from a request's arrival to its response.",
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

    public Histogram BatchSize { get; } = new("sparrow_batch_size", "Items run together in one batch.",
        [1, 2, 4, 8, 16, 32, 64, 128, 256]);

    public void CountRequest(string endpoint, int status) => _requests.AddOrUpdate((endpoint, status), 1, (_, n) => n + 1);

    public long RequestCount(string endpoint, int status) => _requests.TryGetValue((endpoint, status), out var n) ? n : 0;

    /// <summary>Adds a batch: its estimated energy, shared by the items it ran, and the wall time the model was busy with it.</summary>
    public void AddBatch(double joules, int items, double busySeconds)
    {
        lock (_energyLock)
        {
            _joules += joules;
            _itemsRun += items;
            _busySeconds += busySeconds;
        }
    }

    public double JoulesPerItem
    {
        get { lock (_energyLock) return _itemsRun == 0 ? 0 : _joules / _itemsRun; }
    }

    public string Render(int queueLength, long cacheHits, long cacheMisses, int cacheEntries, long cacheBytes, string energyMethod)
    {
        var text = new StringBuilder();
        text.Append("# HELP sparrow_requests_total Requests answered, by endpoint and HTTP status.\n");
        text.Append("# TYPE sparrow_requests_total counter\n");
        foreach (var ((endpoint, status), count) in _requests.OrderBy(r => r.Key.Endpoint, StringComparer.Ordinal).ThenBy(r => r.Key.Status))
            text.Append("sparrow_requests_total{endpoint=\"").Append(endpoint).Append("\",status=\"").Append(status).Append("\"} ").Append(count).Append('\n');
        Latency.Write(text);
        BatchSize.Write(text);
        Gauge(text, "sparrow_queue_length", "Items waiting to run.", queueLength);
        Counter(text, "sparrow_cache_hits_total", "Results answered from the cache.", cacheHits);
        Counter(text, "sparrow_cache_misses_total", "Results that had to be computed (cache on).", cacheMisses);
        var lookups = cacheHits + cacheMisses;
        Gauge(text, "sparrow_cache_hit_ratio", "Cache hits over lookups (0 before any lookup).", lookups == 0 ? 0 : (double)cacheHits / lookups);
        Gauge(text, "sparrow_cache_entries", "Results the cache holds.", cacheEntries);
        Gauge(text, "sparrow_cache_bytes", "Bytes of results the cache holds.", cacheBytes);
        double joules, busy;
        long items;
        lock (_energyLock)
        {
            joules = _joules;
            items = _itemsRun;
            busy = _busySeconds;
        }
        Counter(text, "sparrow_items_run_total", "Items (texts, tensor requests) run through the model.", items);
        text.Append("# HELP sparrow_model_busy_seconds_total Wall time the model spent running batches (its share of the elapsed time is its utilisation).\n");
        text.Append("# TYPE sparrow_model_busy_seconds_total counter\n");
        text.Append("sparrow_model_busy_seconds_total ").Append(Histogram.Format(busy)).Append('\n');
        text.Append("# HELP sparrow_energy_joules_total Estimated energy of all batches run (").Append(energyMethod).Append(").\n");
        text.Append("# TYPE sparrow_energy_joules_total counter\n");
        text.Append("sparrow_energy_joules_total ").Append(Histogram.Format(joules)).Append('\n');
        Gauge(text, "sparrow_energy_joules_per_request", "Estimated energy per item run: sparrow_energy_joules_total over sparrow_items_run_total (cache hits cost none).",
            items == 0 ? 0 : joules / items);
        return text.ToString();
    }

    private static void Gauge(StringBuilder text, string name, string help, double value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" gauge\n")
            .Append(name).Append(' ').Append(Histogram.Format(value)).Append('\n');

    private static void Counter(StringBuilder text, string name, string help, long value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(" counter\n")
            .Append(name).Append(' ').Append(value).Append('\n');
}
