using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Serving.Batching;

/// <summary>
/// Whether a model treats the rows of its inputs' first dimension independently, so that <c>/v1/infer</c> requests
/// may be concatenated along it: a dynamic first dimension alone does not say so (a graph can normalise over the
/// batch, or mix rows). Checked once per model, on generated inputs: two different rows run together must give what
/// each gives alone. A model that fails the check, or cannot be checked, is served without <c>/v1/infer</c> batching.
/// </summary>
internal static class RowIndependenceProbe
{
    /// <summary>Size given to a model input's dynamic dimensions other than the first.</summary>
    private const int DynamicSize = 4;

    public static bool Check(InferenceSession session)
    {
        var inputs = session.InputMetadata;
        if (inputs.Count == 0) return false;
        if (inputs.Any(i => i.Shape is null || i.Shape.Count == 0 || i.Shape[0].IsFixed || i.Shape.Skip(1).Any(d => d.IsFixed && d.Value is < 1 or > 4096)))
            return false;
        var random = new Random(20261129);
        var pair = new Dictionary<string, Tensor>();
        var alone = new[] { new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>() };
        try
        {
            foreach (var input in inputs)
            {
                var rowShape = input.Shape!.Select((d, k) => k == 0 ? 1 : d.IsFixed ? (int)d.Value!.Value : DynamicSize).ToArray();
                var rows = new[] { Generate(input.ElementType, rowShape, random), Generate(input.ElementType, rowShape, random) };
                if (rows[0] is null || rows[1] is null) return false;
                alone[0][input.Name] = rows[0]!;
                alone[1][input.Name] = rows[1]!;
                var pairShape = rowShape.ToArray();
                pairShape[0] = 2;
                pair[input.Name] = Tensor.FromBytes(input.ElementType, pairShape, [.. rows[0]!.AsBytes(), .. rows[1]!.AsBytes()]);
            }
            return RowsMatch(session, pair, alone);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The generated inputs are not ones the model takes: nothing is known, so nothing is batched.
            return false;
        }
        finally
        {
            foreach (var t in pair.Values.Concat(alone[0].Values).Concat(alone[1].Values)) t.Dispose();
        }
    }

    private static bool RowsMatch(InferenceSession session, Dictionary<string, Tensor> pair, Dictionary<string, Tensor>[] alone)
    {
        var together = session.Run(pair);
        var separate = new List<IReadOnlyDictionary<string, Tensor>>();
        try
        {
            separate.Add(session.Run(alone[0]));
            separate.Add(session.Run(alone[1]));
            foreach (var (name, both) in together)
            {
                if (both.Rank == 0 || both.Shape[0] != 2) return false;
                var rowBytes = both.AsBytes().Length / 2;
                for (var row = 0; row < 2; row++)
                {
                    var one = separate[row][name];
                    if (one.Rank != both.Rank || one.Shape[0] != 1 || !one.Shape[1..].SequenceEqual(both.Shape[1..])) return false;
                    if (!Close(both.ElementType, both.AsBytes().Slice(row * rowBytes, rowBytes), one.AsBytes())) return false;
                }
            }
            return true;
        }
        finally
        {
            foreach (var t in together.Values.Concat(separate.SelectMany(s => s.Values))) t.Dispose();
        }
    }

    /// <summary>Float outputs may differ in rounding (a batch can take another kernel path); others must be equal.</summary>
    private static bool Close(DataType type, ReadOnlySpan<byte> batched, ReadOnlySpan<byte> single)
    {
        if (type != DataType.Float32) return batched.SequenceEqual(single);
        var a = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(batched);
        var b = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(single);
        for (var i = 0; i < a.Length; i++)
        {
            if (float.IsNaN(a[i]) && float.IsNaN(b[i])) continue;
            if (!(Math.Abs(a[i] - b[i]) <= 1e-4 + 1e-3 * Math.Abs(b[i]))) return false;
        }
        return true;
    }

    /// <summary>
    /// One row of inputs: floats in [-1, 1); integers 0 or 1 (valid as token ids, masks and type ids alike);
    /// null for types the probe does not generate.
    /// </summary>
    private static Tensor? Generate(DataType type, int[] shape, Random random)
    {
        var length = shape.Aggregate(1, (a, b) => a * b);
        switch (type)
        {
            case DataType.Float32:
                return Tensor<float>.FromArray(Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), shape);
            case DataType.Float64:
                return Tensor<double>.FromArray(Enumerable.Range(0, length).Select(_ => random.NextDouble() * 2 - 1).ToArray(), shape);
            case DataType.Int64:
                return Tensor<long>.FromArray(Enumerable.Range(0, length).Select(_ => (long)random.Next(2)).ToArray(), shape);
            case DataType.Int32:
                return Tensor<int>.FromArray(Enumerable.Range(0, length).Select(_ => random.Next(2)).ToArray(), shape);
            case DataType.Bool:
                return Tensor<bool>.FromArray(Enumerable.Range(0, length).Select(_ => random.Next(2) == 1).ToArray(), shape);
            default:
                return null;
        }
    }
}
