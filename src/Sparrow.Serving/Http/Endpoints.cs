using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sparrow.Serving.Batching;
using Sparrow.Serving.Caching;
using Sparrow.Tensors;

namespace Sparrow.Serving.Http;

/// <summary>The request handlers of <see cref="SparrowServer"/>: parse and check, consult the cache, queue, answer.</summary>
internal sealed class Endpoints(ServedModel model, ServingOptions options, RequestBatcher batcher, ServingCaches caches)
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    public async Task EmbeddingsAsync(HttpContext context)
    {
        if (!model.CanEmbed)
            throw new RequestException(400, $"Model '{model.Name}' is not a sentence encoder (it does not take input_ids and return token states); use /v1/infer.");
        using var body = await ReadJsonAsync(context);
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new RequestException(400, "The body must be a JSON object with 'input' (a string or a list of strings).");
        if (!root.TryGetProperty("input", out var input)) throw new RequestException(400, "'input' is missing: give a string or a list of strings.");
        var texts = ReadTexts(input);
        var base64 = false;
        if (root.TryGetProperty("encoding_format", out var format) && format.ValueKind != JsonValueKind.Null)
        {
            base64 = format.ValueKind == JsonValueKind.String ? ReadString(format, "'encoding_format'") switch
            {
                "float" => false,
                "base64" => true,
                _ => throw new RequestException(400, $"'encoding_format' must be \"float\" or \"base64\", got {format}."),
            } : throw new RequestException(400, $"'encoding_format' must be \"float\" or \"base64\", got {format}.");
        }
        var size = model.EmbeddingSize;
        if (root.TryGetProperty("dimensions", out var dimensions) && dimensions.ValueKind != JsonValueKind.Null
            && (dimensions.ValueKind != JsonValueKind.Number || !dimensions.TryGetInt32(out var wanted) || size is null || wanted != size))
            throw new RequestException(400, $"'dimensions' {dimensions} is not offered: {model.Name} makes {size}-dimensional embeddings.");

        var results = new CachedEmbedding?[texts.Length];
        var keys = new CacheKey[texts.Length];
        var pending = new List<(int Index, EmbeddingItem Item)>();
        for (var i = 0; i < texts.Length; i++)
        {
            keys[i] = CacheKey.Of(model.Hash, $"embed:{model.MaxLength}", texts[i]);
            if (caches.Embeddings.TryGet(keys[i], out var hit)) results[i] = hit;
            else
            {
                var ids = model.Tokenizer.Encode(texts[i], model.MaxLength);
                pending.Add((i, new EmbeddingItem(ids, EmbeddingItem.Bucket(ids.Length, model.MaxLength)) { Cancellation = context.RequestAborted }));
            }
        }
        if (pending.Count > 0)
        {
            if (!batcher.TryEnqueue(pending.Select(p => p.Item).ToArray()))
                throw new RequestException(503, $"The queue is full ({options.MaxQueue} items); try again shortly.");
            foreach (var (index, item) in pending)
            {
                var embedding = new CachedEmbedding(await item.Result.Task.WaitAsync(context.RequestAborted), item.TokenIds.Length);
                caches.Embeddings.Add(keys[index], embedding);
                results[index] = embedding;
            }
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            for (var i = 0; i < results.Length; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("object", "embedding");
                writer.WriteNumber("index", i);
                if (base64) writer.WriteBase64String("embedding", MemoryMarshal.AsBytes(results[i]!.Embedding.AsSpan()));
                else
                {
                    writer.WriteStartArray("embedding");
                    foreach (var v in results[i]!.Embedding) writer.WriteNumberValue(v);
                    writer.WriteEndArray();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("model", model.Name);
            var tokens = results.Sum(r => r!.Tokens);
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", tokens);
            writer.WriteNumber("total_tokens", tokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        await WriteAsync(context, 200, buffer.WrittenMemory);
    }

    private string[] ReadTexts(JsonElement input)
    {
        if (input.ValueKind == JsonValueKind.String) return [ReadString(input, "'input'")];
        if (input.ValueKind != JsonValueKind.Array)
            throw new RequestException(400, "'input' must be a string or a list of strings.");
        var count = input.GetArrayLength();
        if (count == 0) throw new RequestException(400, "'input' is an empty list; give at least one string.");
        // A request larger than the queue could never be queued; 503 ("try again") would be a lie.
        var limit = Math.Min(options.MaxInputsPerRequest, options.MaxQueue);
        if (count > limit)
            throw new RequestException(400, $"'input' has {count} strings; at most {limit} per request.");
        var texts = new string[count];
        var i = 0;
        foreach (var element in input.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.String)
                throw new RequestException(400, $"'input'[{i}] is {element.ValueKind.ToString().ToLowerInvariant()}, not a string (token-id inputs are not supported).");
            texts[i] = ReadString(element, $"'input'[{i}]");
            i++;
        }
        return texts;
    }

    /// <summary>A JSON string's value; a lone UTF-16 surrogate (valid JSON escapes, not a valid string) is the request's fault.</summary>
    private static string ReadString(JsonElement element, string what)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new RequestException(400, $"{what} is not valid text: {e.Message}");
        }
    }

    public async Task InferAsync(HttpContext context)
    {
        using var body = await ReadJsonAsync(context);
        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("inputs", out var inputsJson))
            throw new RequestException(400, "The body must be a JSON object with 'inputs': {\"name\": {\"shape\": [...], \"data\": [...]}}.");
        var inputs = JsonTensors.ReadInputs(inputsJson, model.Inputs);
        try
        {
            RefuseEmptyRows(inputs);
            var key = CacheKey.Of(model.Hash, "infer", CanonicalBytes(inputs));
            if (caches.Responses.TryGet(key, out var cached))
            {
                await WriteAsync(context, 200, cached);
                return;
            }
            var item = new TensorItem(inputs, Rows(inputs), Signature(inputs)) { Cancellation = context.RequestAborted };
            if (!batcher.TryEnqueue([item])) throw new RequestException(503, $"The queue is full ({options.MaxQueue} items); try again shortly.");
            // Not cut short by a disconnect: the batcher may be reading the inputs, which the finally below frees. A
            // request still queued when its client goes is dropped (its task cancelled), so this wait is short then.
            var outputs = await item.Result.Task;
            byte[] response;
            try
            {
                var buffer = new ArrayBufferWriter<byte>();
                using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
                {
                    writer.WriteStartObject();
                    writer.WriteString("model", model.Name);
                    writer.WriteStartObject("outputs");
                    foreach (var (name, tensor) in outputs)
                    {
                        writer.WritePropertyName(name);
                        JsonTensors.Write(writer, tensor);
                    }
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }
                response = buffer.WrittenSpan.ToArray();
            }
            finally
            {
                foreach (var t in outputs.Values) t.Dispose();
            }
            caches.Responses.Add(key, response);
            await WriteAsync(context, 200, response);
        }
        finally
        {
            foreach (var t in inputs.Values) t.Dispose();
        }
    }

    /// <summary>The first dimension of the inputs when they all share one (the rows a request adds to a batch), else 1.</summary>
    private static int Rows(Dictionary<string, Tensor> inputs)
    {
        var first = inputs.Values.Select(t => t.Rank == 0 ? -1 : t.Shape[0]).Distinct().ToArray();
        return first.Length == 1 && first[0] > 0 ? first[0] : 1;
    }

    /// <summary>
    /// Refuses an input with no rows: it would count as a row of a batch and break the concatenation, and a model
    /// has nothing to compute for it.
    /// </summary>
    private static void RefuseEmptyRows(Dictionary<string, Tensor> inputs)
    {
        foreach (var (name, tensor) in inputs)
            if (tensor.Rank > 0 && tensor.Shape[0] == 0)
                throw new RequestException(400, $"Input '{name}' has shape {TensorShape.Format(tensor.Shape)}: its first dimension is 0; give at least one row.");
    }

    /// <summary>
    /// What requests must share to be concatenated along the first dimension: every input's type and other sizes.
    /// Requests that cannot be (scalars, a model input whose first size is fixed, inputs of different first sizes,
    /// a model whose rows are not independent) get a key of their own.
    /// </summary>
    private string Signature(Dictionary<string, Tensor> inputs)
    {
        var batchable = inputs.Count > 0 && inputs.Values.All(t => t.Rank > 0)
            && inputs.Values.Select(t => t.Shape[0]).Distinct().Count() == 1
            && model.Inputs.All(i => i.Shape is null || (i.Shape.Count > 0 && !i.Shape[0].IsFixed))
            && options.MaxBatch > 1 && model.RowsAreIndependent;
        if (!batchable) return Guid.NewGuid().ToString("N");
        var text = new StringBuilder();
        foreach (var (name, tensor) in inputs.OrderBy(i => i.Key, StringComparer.Ordinal))
            text.Append(name).Append(':').Append(tensor.ElementType).Append(':').AppendJoin(',', tensor.Shape[1..].ToArray()).Append(';');
        return text.ToString();
    }

    /// <summary>The exact input as bytes: each input's name, type, shape and raw data, in name order.</summary>
    private static byte[] CanonicalBytes(Dictionary<string, Tensor> inputs)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        foreach (var (name, tensor) in inputs.OrderBy(i => i.Key, StringComparer.Ordinal))
        {
            writer.Write(name);
            writer.Write((int)tensor.ElementType);
            writer.Write(tensor.Rank);
            foreach (var s in tensor.Shape) writer.Write(s);
            writer.Write(tensor.AsBytes());
        }
        writer.Flush();
        return stream.ToArray();
    }

    public async Task HealthAsync(HttpContext context)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("status", "ok");
            writer.WriteString("model", model.Name);
            writer.WriteBoolean("embeddings", model.CanEmbed);
            writer.WriteNumber("queueLength", batcher.QueueLength);
            writer.WriteEndObject();
        }
        await WriteAsync(context, 200, buffer.WrittenMemory);
    }

    private async Task<JsonDocument> ReadJsonAsync(HttpContext context)
    {
        if (context.Request.ContentLength > options.MaxBodyBytes)
            throw new RequestException(413, $"The body is {context.Request.ContentLength} bytes; at most {options.MaxBodyBytes} are accepted.");
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new RequestException(400, $"Malformed JSON: {e.Message}");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            throw new RequestException(413, $"The body is larger than the {options.MaxBodyBytes} bytes accepted.");
        }
    }

    public static async Task WriteAsync(HttpContext context, int status, ReadOnlyMemory<byte> json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }

    /// <summary>An error the OpenAI way: <c>{"error": {"message": ..., "type": ..., "code": status}}</c>.</summary>
    public static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", status switch { 503 => "server_overloaded", >= 500 => "server_error", _ => "invalid_request_error" });
            writer.WriteNumber("code", status);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return WriteAsync(context, status, buffer.WrittenMemory);
    }
}

/// <summary>An embedding as cached: the vector and the tokens it took (for <c>usage</c>).</summary>
internal sealed record CachedEmbedding(float[] Embedding, int Tokens);

/// <summary>The server's two caches: embeddings per text, and whole <c>/v1/infer</c> responses.</summary>
internal sealed class ServingCaches(int entries, long bytes)
{
    public ResultCache<CachedEmbedding> Embeddings { get; } = new(entries, bytes / 2, e => e.Embedding.Length * sizeof(float) + 64);

    public ResultCache<byte[]> Responses { get; } = new(entries, bytes / 2, r => r.Length + 64);

    public long Hits => Embeddings.Hits + Responses.Hits;

    public long Misses => Embeddings.Misses + Responses.Misses;
}
