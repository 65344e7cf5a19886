using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX LayerNormalization (opset 17) over float32: each row of the dimensions from 'axis' on is
/// normalised to zero mean and unit variance, then scaled and shifted. Optional outputs Mean and
/// InvStdDev have shape X[:axis] + 1s. Rows run through a fused SIMD kernel (two reads, one write per
/// element), spread over threads, because BERT-style models run this on every token of every layer.
/// </summary>
[OnnxOperator("LayerNormalization")]
internal sealed class LayerNormalizationOperator : Operator
{
    private readonly long _axis;
    private readonly float _epsilon;

    public LayerNormalizationOperator(Node node, OperatorContext context) : base(node)
    {
        _axis = node.GetInt("axis", -1);
        _epsilon = node.GetFloat("epsilon", 1e-5f);
        var stashType = node.GetInt("stash_type", 1);
        if (stashType != (long)DataType.Float32)
            throw new NotSupportedException($"LayerNormalization stash_type {stashType} is not supported (only 1, float32).");
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        var scaleTensor = RequiredFloat(inputs, 1);
        var biasTensor = Optional(inputs, 2) is { } b
            ? b as Tensor<float> ?? throw new NotSupportedException($"LayerNormalization bias is {DataTypes.Name(b.ElementType)}; only float32 is supported.")
            : null;
        var rank = x.Rank;
        var axis = TensorShape.NormalizeAxis(_axis, rank, "LayerNormalization axis");
        var normalizedShape = x.Shape[axis..];
        var rows = TensorShape.Product(x.Shape, 0, axis);
        var cols = TensorShape.Product(normalizedShape);
        var scale = ExpandTo(scaleTensor, normalizedShape, "scale");
        var bias = biasTensor is null ? null : ExpandTo(biasTensor, normalizedShape, "bias");

        var statsShape = x.CopyShape();
        for (var i = axis; i < rank; i++) statsShape[i] = 1;
        var outputCount = Math.Clamp(Node.Outputs.Count, 1, 3);
        var y = Tensor<float>.Allocate(x.Shape, clear: false);
        var mean = outputCount > 1 ? Tensor<float>.Allocate(statsShape, clear: false) : null;
        var invStdDev = outputCount > 2 ? Tensor<float>.Allocate(statsShape, clear: false) : null;
        var epsilon = _epsilon;
        ParallelRows.For(rows, cols, context.Threads, (start, end) =>
        {
            var xs = x.Span;
            var ys = y.Span;
            ReadOnlySpan<float> scales = scale ?? scaleTensor.Span;
            ReadOnlySpan<float> biases = bias ?? (biasTensor is null ? default : biasTensor.Span);
            var means = mean is null ? default : mean.Span;
            var invs = invStdDev is null ? default : invStdDev.Span;
            for (var r = start; r < end; r++)
            {
                var (m, inv) = NormalizeRow(xs.Slice(r * cols, cols), scales, biases, epsilon, ys.Slice(r * cols, cols));
                if (!means.IsEmpty) means[r] = m;
                if (!invs.IsEmpty) invs[r] = inv;
            }
        });
        return outputCount switch
        {
            1 => new Tensor[] { y },
            2 => new Tensor[] { y, mean! },
            _ => new Tensor[] { y, mean!, invStdDev! },
        };
    }

    /// <summary>
    /// Checks that scale or bias broadcasts to the normalised shape; returns it expanded to that length
    /// when it is smaller, or null when the tensor itself can be used.
    /// </summary>
    internal static float[]? ExpandTo(Tensor<float> tensor, ReadOnlySpan<int> normalizedShape, string what)
    {
        var target = TensorShape.TryBroadcast(tensor.Shape, normalizedShape);
        if (target is null || !target.AsSpan().SequenceEqual(normalizedShape))
            throw new ArgumentException($"LayerNormalization {what} of shape {TensorShape.Format(tensor.Shape)} does not broadcast to the normalised shape {TensorShape.Format(normalizedShape)}.");
        var length = TensorShape.Product(normalizedShape);
        if (tensor.Length == length) return null;
        var result = new float[length];
        // Right-aligned broadcast: walk the target and map each index to the source.
        var source = tensor.Span;
        var rank = normalizedShape.Length;
        var offset = rank - tensor.Rank;
        var sourceStrides = TensorShape.Strides(tensor.Shape);
        var targetStrides = TensorShape.Strides(normalizedShape);
        for (var i = 0; i < length; i++)
        {
            var s = 0;
            for (var d = offset; d < rank; d++)
            {
                var index = i / targetStrides[d] % normalizedShape[d];
                if (tensor.Shape[d - offset] != 1) s += index * sourceStrides[d - offset];
            }
            result[i] = source[s];
        }
        return result;
    }

    /// <summary>y = (x - mean) / sqrt(var + epsilon) * scale + bias for one row; returns mean and 1/sqrt(var + epsilon).</summary>
    internal static (float Mean, float InvStdDev) NormalizeRow(ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, float epsilon, Span<float> y)
    {
        var n = x.Length;
        var mean = TensorPrimitives.Sum(x) / n;
        var variance = SumOfSquaredDeviations(x, mean) / n;
        var inv = 1f / MathF.Sqrt(variance + epsilon);
        ScaleShift(x, mean, inv, scale, bias, y);
        return (mean, inv);
    }

    /// <summary>Sum of (x - mean)^2, without writing the deviations anywhere.</summary>
    internal static float SumOfSquaredDeviations(ReadOnlySpan<float> x, float mean)
    {
        ref var xr = ref MemoryMarshal.GetReference(x);
        var n = x.Length;
        var i = 0;
        var total = 0f;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var m = Vector512.Create(mean);
            var acc = Vector512<float>.Zero;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var d = Vector512.LoadUnsafe(ref xr, (nuint)i) - m;
                acc = Vector512.FusedMultiplyAdd(d, d, acc);
            }
            total = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            var m = Vector256.Create(mean);
            var acc = Vector256<float>.Zero;
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var d = Vector256.LoadUnsafe(ref xr, (nuint)i) - m;
                acc = Vector256.FusedMultiplyAdd(d, d, acc);
            }
            total = Vector256.Sum(acc);
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            var m = Vector128.Create(mean);
            var acc = Vector128<float>.Zero;
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var d = Vector128.LoadUnsafe(ref xr, (nuint)i) - m;
                acc = Vector128.FusedMultiplyAdd(d, d, acc);
            }
            total = Vector128.Sum(acc);
        }
        for (; i < n; i++)
        {
            var d = Unsafe.Add(ref xr, i) - mean;
            total += d * d;
        }
        return total;
    }

    /// <summary>y = (x - mean) * inv * scale + bias (bias empty means none), in one pass.</summary>
    internal static void ScaleShift(ReadOnlySpan<float> x, float mean, float inv, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, Span<float> y)
    {
        var n = x.Length;
        if (scale.Length < n || y.Length < n || (!bias.IsEmpty && bias.Length < n))
            throw new ArgumentException("LayerNormalization row, scale, bias and output lengths differ.");
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var sr = ref MemoryMarshal.GetReference(scale);
        ref var yr = ref MemoryMarshal.GetReference(y);
        var hasBias = !bias.IsEmpty;
        ref var br = ref hasBias ? ref MemoryMarshal.GetReference(bias) : ref sr;
        var i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
        {
            var m = Vector512.Create(mean);
            var s = Vector512.Create(inv);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var u = (nuint)i;
                var t = (Vector512.LoadUnsafe(ref xr, u) - m) * s;
                var b = hasBias ? Vector512.LoadUnsafe(ref br, u) : Vector512<float>.Zero;
                Vector512.FusedMultiplyAdd(t, Vector512.LoadUnsafe(ref sr, u), b).StoreUnsafe(ref yr, u);
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<float>.Count)
        {
            var m = Vector256.Create(mean);
            var s = Vector256.Create(inv);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var u = (nuint)i;
                var t = (Vector256.LoadUnsafe(ref xr, u) - m) * s;
                var b = hasBias ? Vector256.LoadUnsafe(ref br, u) : Vector256<float>.Zero;
                Vector256.FusedMultiplyAdd(t, Vector256.LoadUnsafe(ref sr, u), b).StoreUnsafe(ref yr, u);
            }
        }
        else if (Vector128.IsHardwareAccelerated && n >= Vector128<float>.Count)
        {
            var m = Vector128.Create(mean);
            var s = Vector128.Create(inv);
            for (; i <= n - Vector128<float>.Count; i += Vector128<float>.Count)
            {
                var u = (nuint)i;
                var t = (Vector128.LoadUnsafe(ref xr, u) - m) * s;
                var b = hasBias ? Vector128.LoadUnsafe(ref br, u) : Vector128<float>.Zero;
                Vector128.FusedMultiplyAdd(t, Vector128.LoadUnsafe(ref sr, u), b).StoreUnsafe(ref yr, u);
            }
        }
        for (; i < n; i++)
        {
            var t = (Unsafe.Add(ref xr, i) - mean) * inv;
            Unsafe.Add(ref yr, i) = MathF.FusedMultiplyAdd(t, Unsafe.Add(ref sr, i), hasBias ? Unsafe.Add(ref br, i) : 0f);
        }
    }
}
