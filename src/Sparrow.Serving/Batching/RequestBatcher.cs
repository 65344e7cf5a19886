using System.Diagnostics;
using System.Threading.Channels;
using Sparrow.Data.Embeddings;
using Sparrow.Data.Text;
using Sparrow.Energy;
using Sparrow.Serving.Http;
using Sparrow.Serving.Metrics;
using Sparrow.Tensors;

namespace Sparrow.Serving.Batching;

/// <summary>
/// Dynamic batching: requests queue their items; one worker takes the first waiting item, gathers more until it has
/// <see cref="ServingOptions.MaxBatch"/> or <see cref="ServingOptions.MaxDelay"/> has passed, then runs the items
/// that can share a model call together (embeddings per padded length, tensors per shape) and hands every item
/// exactly its own rows. One model call at a time: the session's operators use the cores.
/// </summary>
internal sealed class RequestBatcher : IAsyncDisposable
{
    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ServedModel _model;
    private readonly ServingOptions _options;
    private readonly ServerMetrics _metrics;
    private readonly EstimatedEnergyMeter _energy;
    private readonly Task _worker;
    private readonly CancellationTokenSource _flush = new();
    private int _queued;
    private int _disposed;

    public RequestBatcher(ServedModel model, ServingOptions options, ServerMetrics metrics, EstimatedEnergyMeter energy)
    {
        _model = model;
        _options = options;
        _metrics = metrics;
        _energy = energy;
        _worker = Task.Factory.StartNew(() => RunAsync(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Items accepted and not yet running.</summary>
    public int QueueLength => Volatile.Read(ref _queued);

    /// <summary>Queues all of <paramref name="items"/>, or none of them when the queue has no room (the caller answers 503).</summary>
    public bool TryEnqueue(IReadOnlyList<WorkItem> items)
    {
        while (true)
        {
            var queued = Volatile.Read(ref _queued);
            if (queued + items.Count > _options.MaxQueue) return false;
            if (Interlocked.CompareExchange(ref _queued, queued + items.Count, queued) == queued) break;
        }
        foreach (var item in items)
        {
            if (_queue.Writer.TryWrite(item)) continue;
            // Shut down: this and the remaining items will never run.
            Interlocked.Add(ref _queued, -1);
            item.Fail(new InvalidOperationException("The server is shutting down."));
        }
        return true;
    }

    private async Task RunAsync()
    {
        var batch = new List<WorkItem>(_options.MaxBatch);
        var reader = _queue.Reader;
        // An item that did not fit the last batch's row limit: it starts the next one.
        WorkItem? carried = null;
        while (carried is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            WorkItem? first = carried;
            carried = null;
            if (first is null && !reader.TryRead(out first)) continue;
            if (DroppedAsCancelled(first)) continue;
            batch.Clear();
            batch.Add(first);
            // MaxBatch counts rows (a text, or a tensor request's first dimension), so that one large request does
            // not make a batch many times larger than asked for; a single request larger than the limit runs alone.
            var rows = first.Rows;
            var deadline = Stopwatch.GetTimestamp() + (long)(_options.MaxDelay.TotalSeconds * Stopwatch.Frequency);
            while (rows < _options.MaxBatch)
            {
                if (reader.TryRead(out var next))
                {
                    if (DroppedAsCancelled(next)) continue;
                    if (rows + next.Rows > _options.MaxBatch)
                    {
                        carried = next;
                        break;
                    }
                    batch.Add(next);
                    rows += next.Rows;
                    continue;
                }
                var left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0 || _flush.IsCancellationRequested) break;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_flush.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
                try
                {
                    if (!await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false)) break;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            Interlocked.Add(ref _queued, -batch.Count);
            foreach (var group in batch.GroupBy(item => item.BatchKey))
            {
                var items = group.ToArray();
                try
                {
                    var complete = Measured(items.Sum(i => i.Rows), items.Length, () => items[0] is EmbeddingItem
                        ? RunEmbeddings(items.Cast<EmbeddingItem>().ToArray())
                        : RunTensors(items.Cast<TensorItem>().ToArray()));
                    complete();
                }
                catch (Exception e)
                {
                    foreach (var item in items) item.Fail(e);
                }
            }
        }
    }

    /// <summary>
    /// Ends an item whose requester has gone instead of running it: a client that disconnected must not hold the
    /// requests behind it (1,000 abandoned texts delayed the next request by 73 s).
    /// </summary>
    private bool DroppedAsCancelled(WorkItem item)
    {
        if (!item.Cancellation.IsCancellationRequested) return false;
        Interlocked.Decrement(ref _queued);
        item.Cancel();
        return true;
    }

    /// <summary>
    /// Runs one model call (or a few, when a tensor batch falls back) and records its size and estimated energy before
    /// the callers hear back (so that metrics read after a response include its batch); returns what answers them.
    /// </summary>
    private Action Measured(int rows, int items, Func<Action> run)
    {
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var start = Stopwatch.GetTimestamp();
        var complete = run();
        var elapsed = Stopwatch.GetElapsedTime(start);
        var cpuSeconds = Math.Max(0, (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds);
        var joules = _energy.Estimate(cpuSeconds, Environment.WorkingSet, elapsed).Joules;
        _metrics.BatchSize.Observe(rows);
        _metrics.AddBatch(joules, items, elapsed.TotalSeconds);
        return complete;
    }

    private Action RunEmbeddings(EmbeddingItem[] items)
    {
        // The bucket only groups texts of similar length; each batch pads to its own longest text, so that a
        // text alone (batching off) runs unpadded, as sparrow embed runs it.
        var length = items.Max(i => i.TokenIds.Length);
        int[] shape = [items.Length, length];
        using var ids = Tensor<long>.Allocate(shape, clear: false);
        using var mask = Tensor<long>.Allocate(shape);
        using var types = Tensor<long>.Allocate(shape);
        ids.Span.Fill(_model.Tokenizer.PaddingTokenId);
        for (var row = 0; row < items.Length; row++)
        {
            var tokens = items[row].TokenIds;
            for (var i = 0; i < tokens.Length; i++)
            {
                ids.Span[row * length + i] = tokens[i];
                mask.Span[row * length + i] = 1;
            }
        }
        var all = new Dictionary<string, Tensor>
        {
            [TokenBatch.InputIdsName] = ids,
            [TokenBatch.AttentionMaskName] = mask,
            [TokenBatch.TokenTypeIdsName] = types,
        };
        var inputs = _model.EmbeddingInputs!.ToDictionary(name => name, name => all[name]);
        var outputs = _model.Session.Run(inputs);
        try
        {
            if (outputs[_model.HiddenStateOutput!] is not Tensor<float> states)
                throw new InvalidOperationException($"Output '{_model.HiddenStateOutput}' is not float32.");
            var embeddings = EmbeddingMath.MeanPool(states, mask);
            foreach (var embedding in embeddings) EmbeddingMath.L2Normalize(embedding);
            return () =>
            {
                for (var row = 0; row < items.Length; row++) items[row].Result.TrySetResult(embeddings[row]);
            };
        }
        finally
        {
            foreach (var t in outputs.Values) t.Dispose();
        }
    }

    private Action RunTensors(TensorItem[] items)
    {
        if (items.Length == 1) return RunAlone(items[0]);
        var total = items.Sum(i => i.Rows);
        var inputs = new Dictionary<string, Tensor>();
        IReadOnlyDictionary<string, Tensor>? outputs = null;
        try
        {
            try
            {
                foreach (var name in items[0].Inputs.Keys)
                    inputs[name] = Concatenate(items.Select(i => i.Inputs[name]).ToArray(), total);
                outputs = _model.Session.Run(inputs);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // One request can make the whole batch fail (an index out of range, say): run each alone, so that
                // only the requests that fail by themselves fail, and with their own error.
                return RunEach(items);
            }
            // Only outputs with one row per input row can be split back; otherwise run each request alone.
            if (outputs.Values.Any(o => o.Rank == 0 || o.Shape[0] != total)) return RunEach(items);
            var offset = 0;
            var split = new IReadOnlyDictionary<string, Tensor>[items.Length];
            for (var k = 0; k < items.Length; k++)
            {
                var start = offset;
                split[k] = outputs.ToDictionary(o => o.Key, o => Rows(o.Value, start, items[k].Rows));
                offset += items[k].Rows;
            }
            return () =>
            {
                for (var k = 0; k < items.Length; k++) items[k].Result.TrySetResult(split[k]);
            };
        }
        finally
        {
            if (outputs is not null) foreach (var t in outputs.Values) t.Dispose();
            foreach (var t in inputs.Values) t.Dispose();
        }
    }

    private Action RunEach(TensorItem[] items)
    {
        var each = items.Select(RunAlone).ToArray();
        return () => { foreach (var answer in each) answer(); };
    }

    /// <summary>
    /// Runs one request by itself. A failure here is the request's own (its inputs made the model fail: an index out
    /// of range, a size the graph cannot take), so it is answered as a bad request with the model's message.
    /// </summary>
    private Action RunAlone(TensorItem item)
    {
        try
        {
            var outputs = _model.Session.Run(item.Inputs);
            return () => item.Result.TrySetResult(outputs);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var error = new RequestException(400, $"The model failed on this request's inputs: {e.Message}");
            return () => item.Fail(error);
        }
    }

    private static Tensor Concatenate(Tensor[] parts, int rows)
    {
        var shape = parts[0].CopyShape();
        shape[0] = rows;
        var bytes = new byte[parts.Sum(p => p.AsBytes().Length)];
        var offset = 0;
        foreach (var part in parts)
        {
            part.AsBytes().CopyTo(bytes.AsSpan(offset));
            offset += part.AsBytes().Length;
        }
        return Tensor.FromBytes(parts[0].ElementType, shape, bytes);
    }

    /// <summary>A copy of rows [start, start + count) of a tensor's first dimension.</summary>
    private static Tensor Rows(Tensor tensor, int start, int count)
    {
        var shape = tensor.CopyShape();
        var rowBytes = tensor.AsBytes().Length / shape[0];
        shape[0] = count;
        return Tensor.FromBytes(tensor.ElementType, shape, tensor.AsBytes().Slice(start * rowBytes, count * rowBytes));
    }

    /// <summary>From now on batches run with what has queued, without waiting for more (the server is stopping).</summary>
    public void Flush()
    {
        // After disposal every item has run already; a flush racing with it has nothing left to hurry.
        if (Volatile.Read(ref _disposed) != 0) return;
        try { _flush.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>Stops taking items and waits until every accepted item has run; a second call does nothing more.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _worker.ConfigureAwait(false);
            return;
        }
        _flush.Cancel();
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
        _flush.Dispose();
    }
}
