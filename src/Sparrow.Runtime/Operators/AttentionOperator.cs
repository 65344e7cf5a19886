using System.Buffers;
using System.Runtime.Intrinsics.X86;
using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Sparrow's fused scaled dot-product attention (domain "ai.sparrow", op "Attention"), made by the
/// AttentionFusion graph pass: for each batch and head, P = softmax(Q·Kᵀ / divisor (or · scale) + mask)
/// over keys, then O = P·V. Inputs Q [B, Sq, H, D], K [B, Sk, H, D], V [B, Sk, H, Dv] (heads behind the
/// sequence, read with a stride instead of being transposed), optional float mask broadcast to
/// [B, H, Sq, Sk]; output [B, Sq, H, Dv]. B and H broadcast where an operand has 1.
/// </summary>
/// <remarks>
/// One (batch, head, block of query rows) is one task: its scores fit in a thread's cache, so the scale,
/// the mask and the softmax run on data the GEMM just wrote, and the [B, H, Sq, Sk] tensor of the unfused
/// graph is never written to memory. Scale, mask and softmax run as one row kernel (<see cref="SoftmaxKernel"/>),
/// so results match the unfused operators (MatMul, Div or Mul, Add, Softmax) to float rounding, not bit for bit.
/// </remarks>
[OnnxOperator("Attention", Domain = OperatorContext.SparrowDomain)]
internal sealed class AttentionOperator : Operator
{
    /// <summary>Scores per task (floats) that stay in a core's L2 with room to spare.</summary>
    private const int ScoresPerTask = 1 << 15;

    /// <summary>Below this many multiply-adds in all, one thread does everything (starting threads costs more).</summary>
    private const long MinParallelWork = 1 << 18;

    /// <summary>What the scores are multiplied by: the scale, or 1/divisor (exact for the usual √d = 8; otherwise within an ulp of dividing).</summary>
    private readonly float _factor = 1f;

    public AttentionOperator(Node node, OperatorContext context) : base(node)
    {
        if (node.Inputs.Count is < 3 or > 4) throw new ArgumentException($"Attention takes 3 or 4 inputs (Q, K, V, mask), got {node.Inputs.Count}.");
        var divisor = node.FindAttribute("divisor");
        var scale = node.FindAttribute("scale");
        if (divisor is not null && scale is not null)
            throw new NotSupportedException("Attention with both 'divisor' and 'scale' is not supported; give at most one.");
        if (divisor is not null) _factor = 1f / divisor.AsFloat();
        if (scale is not null) _factor = scale.AsFloat();
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var q = RequiredFloat(inputs, 0);
        var k = RequiredFloat(inputs, 1);
        var v = RequiredFloat(inputs, 2);
        var mask = Optional(inputs, 3) is { } m ? m as Tensor<float> ?? throw new NotSupportedException(
            $"input 3 (mask) is {DataTypes.Name(m.ElementType)}, which is not supported here (float32 only).") : null;
        var layout = Layout.Create(q.Shape, k.Shape, v.Shape, mask is null ? default : mask.Shape);
        var output = Tensor<float>.Allocate(layout.OutputShape, clear: false);
        try
        {
            if (output.Length == 0) return [output];
            if (layout.KeyLength == 0)
            {
                // Softmax over no keys weighs nothing: every output is an empty sum.
                output.Span.Clear();
                return [output];
            }
            Compute(layout, q, k, v, mask, output, context.Threads);
            return [output];
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    private void Compute(Layout layout, Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float>? mask, Tensor<float> output, int threads)
    {
        var rowsPerTask = Math.Clamp(ScoresPerTask / layout.KeyLength, 1, layout.QueryLength);
        // Equal blocks rather than full ones and a ragged last, so that threads get equal work.
        var blocksPerHead = (layout.QueryLength + rowsPerTask - 1) / rowsPerTask;
        rowsPerTask = (layout.QueryLength + blocksPerHead - 1) / blocksPerHead;
        var tasks = layout.Batch * layout.Heads * blocksPerHead;
        var work = (long)layout.Batch * layout.Heads * layout.QueryLength * layout.KeyLength * (layout.HeadSize + layout.ValueSize);
        var workers = (int)Math.Min(Math.Min(threads, tasks), Math.Max(1, work / MinParallelWork));
        if (workers <= 1)
        {
            RunTasks(layout, q, k, v, mask, output, rowsPerTask, blocksPerHead, 0, tasks);
            return;
        }
        GemmParallel.For(workers, workers, worker =>
            RunTasks(layout, q, k, v, mask, output, rowsPerTask, blocksPerHead,
                (int)((long)tasks * worker / workers), (int)((long)tasks * (worker + 1) / workers)));
    }

    private void RunTasks(Layout layout, Tensor<float> q, Tensor<float> k, Tensor<float> v, Tensor<float>? mask, Tensor<float> output,
        int rowsPerTask, int blocksPerHead, int start, int end)
    {
        var keys = layout.KeyLength;
        var scratch = ArrayPool<float>.Shared.Rent(rowsPerTask * keys);
        try
        {
            for (var task = start; task < end; task++)
            {
                var block = task % blocksPerHead;
                var head = task / blocksPerHead % layout.Heads;
                var batch = task / blocksPerHead / layout.Heads;
                var firstRow = block * rowsPerTask;
                var rows = Math.Min(rowsPerTask, layout.QueryLength - firstRow);
                var scores = scratch.AsSpan(0, rows * keys);
                if (task + 1 < end) PrefetchTask(layout, q, k, v, rowsPerTask, blocksPerHead, task + 1);
                var qOffset = layout.QueryOffset(batch, head, firstRow);
                if (layout.HeadSize == 0) scores.Clear();
                else
                    Sgemm.Multiply(rows, keys, layout.HeadSize,
                        q.Span[qOffset..], layout.QueryRowStride, false,
                        k.Span[layout.KeyOffset(batch, head)..], layout.KeyRowStride, true,
                        scores, keys);
                for (var r = 0; r < rows; r++)
                {
                    var row = scores.Slice(r * keys, keys);
                    if (mask is null) SoftmaxKernel.ScaleMaskSoftmax(row, _factor, default, 0f);
                    else
                    {
                        var maskOffset = layout.MaskOffset(batch, head, firstRow + r);
                        if (layout.MaskKeyStride == 0) SoftmaxKernel.ScaleMaskSoftmax(row, _factor, default, mask.Span[maskOffset]);
                        else SoftmaxKernel.ScaleMaskSoftmax(row, _factor, mask.Span.Slice(maskOffset, keys), 0f);
                    }
                }
                Sgemm.Multiply(rows, layout.ValueSize, keys,
                    scores, keys, false,
                    v.Span[layout.ValueOffset(batch, head)..], layout.ValueRowStride, false,
                    output.Span[layout.OutputOffset(batch, head, firstRow)..], layout.OutputRowStride);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Asks for the next task's rows of Q, K and V while this one computes: they are short strided runs
    /// (one head's slice of each row), which the hardware prefetcher does not see coming.
    /// </summary>
    private static unsafe void PrefetchTask(Layout layout, Tensor<float> q, Tensor<float> k, Tensor<float> v, int rowsPerTask, int blocksPerHead, int task)
    {
        if (!Sse.IsSupported) return;
        var block = task % blocksPerHead;
        var head = task / blocksPerHead % layout.Heads;
        var batch = task / blocksPerHead / layout.Heads;
        var firstRow = block * rowsPerTask;
        var rows = Math.Min(rowsPerTask, layout.QueryLength - firstRow);
        Prefetch(q.Span, layout.QueryOffset(batch, head, firstRow), rows, layout.QueryRowStride, layout.HeadSize);
        if (block != 0) return; // K and V are the same for every block of a head
        Prefetch(k.Span, layout.KeyOffset(batch, head), layout.KeyLength, layout.KeyRowStride, layout.HeadSize);
        Prefetch(v.Span, layout.ValueOffset(batch, head), layout.KeyLength, layout.ValueRowStride, layout.ValueSize);

        static void Prefetch(ReadOnlySpan<float> data, int offset, int rows, int stride, int width)
        {
            if (width == 0 || rows == 0) return;
            fixed (float* start = data)
            {
                // Only whole rows inside the span: the last row ends at offset + (rows - 1)·stride + width.
                if ((long)offset + (long)(rows - 1) * stride + width > data.Length) return;
                for (var r = 0; r < rows; r++)
                {
                    var row = start + offset + (long)r * stride;
                    for (var c = 0; c < width; c += 16) Sse.Prefetch0(row + c);
                }
            }
        }
    }

    /// <summary>Sizes, broadcasting and element offsets of one run's operands.</summary>
    private sealed class Layout
    {
        public required int Batch { get; init; }
        public required int Heads { get; init; }
        public required int QueryLength { get; init; }
        public required int KeyLength { get; init; }
        public required int HeadSize { get; init; }
        public required int ValueSize { get; init; }
        public required int[] OutputShape { get; init; }

        // Per operand: element strides of its batch and head (0 where it broadcasts) and of a sequence row.
        private int[] _q = null!, _k = null!, _v = null!, _mask = null!;

        public int QueryRowStride => _q[2];
        public int KeyRowStride => _k[2];
        public int ValueRowStride => _v[2];
        public int OutputRowStride => Heads * ValueSize;

        /// <summary>0 when the mask has one value per query row (broadcast over keys), else 1.</summary>
        public int MaskKeyStride => _mask[3];

        public int QueryOffset(int b, int h, int row) => b * _q[0] + h * _q[1] + row * _q[2];
        public int KeyOffset(int b, int h) => b * _k[0] + h * _k[1];
        public int ValueOffset(int b, int h) => b * _v[0] + h * _v[1];
        public int MaskOffset(int b, int h, int row) => b * _mask[0] + h * _mask[1] + row * _mask[2];
        public int OutputOffset(int b, int h, int row) => ((b * QueryLength + row) * Heads + h) * ValueSize;

        public static Layout Create(ReadOnlySpan<int> q, ReadOnlySpan<int> k, ReadOnlySpan<int> v, ReadOnlySpan<int> mask)
        {
            if (q.Length != 4 || k.Length != 4 || v.Length != 4)
                throw new InvalidOperationException(
                    $"Attention needs Q, K and V of rank 4 [batch, seq, heads, size], got {TensorShape.Format(q)}, {TensorShape.Format(k)} and {TensorShape.Format(v)}.");
            if (k[3] != q[3])
                throw new InvalidOperationException($"Attention's Q {TensorShape.Format(q)} and K {TensorShape.Format(k)} differ in head size.");
            if (v[1] != k[1])
                throw new InvalidOperationException($"Attention's K {TensorShape.Format(k)} and V {TensorShape.Format(v)} differ in sequence length.");
            if (mask.Length > 4)
                throw new InvalidOperationException($"Attention's mask {TensorShape.Format(mask)} has more than 4 dimensions.");
            var batch = Broadcast("batch", q[0], k[0], v[0]);
            var heads = Broadcast("heads", q[2], k[2], v[2]);
            int queries = q[1], keys = k[1];
            // The mask, right-aligned against the scores [B, H, Sq, Sk]; it may widen B and H (as Add would) but not the rows.
            Span<int> maskShape = stackalloc int[4];
            maskShape.Fill(1);
            mask.CopyTo(maskShape[(4 - mask.Length)..]);
            batch = Broadcast("batch", batch, maskShape[0]);
            heads = Broadcast("heads", heads, maskShape[1]);
            if (maskShape[2] is var mq && mq != 1 && mq != queries || maskShape[3] is var mk && mk != 1 && mk != keys)
                throw new InvalidOperationException($"Attention's mask {TensorShape.Format(mask)} does not broadcast to the scores [{batch}, {heads}, {queries}, {keys}].");
            var maskStrides = new int[4];
            var stride = 1;
            for (var d = 3; d >= 0; d--)
            {
                maskStrides[d] = maskShape[d] == 1 ? 0 : stride;
                stride *= maskShape[d];
            }
            return new Layout
            {
                Batch = batch, Heads = heads, QueryLength = queries, KeyLength = keys, HeadSize = q[3], ValueSize = v[3],
                OutputShape = new[] { batch, queries, heads, v[3] },
                _q = Strides(q), _k = Strides(k), _v = Strides(v), _mask = maskStrides,
            };
        }

        /// <summary>[batch, head, row] strides of a [B, S, H, D] operand; batch and head are 0 where they are 1 (broadcast).</summary>
        private static int[] Strides(ReadOnlySpan<int> shape)
        {
            var row = shape[2] * shape[3];
            return new[] { shape[0] == 1 ? 0 : shape[1] * row, shape[2] == 1 ? 0 : shape[3], row };
        }

        private static int Broadcast(string what, params int[] sizes)
        {
            var size = 1;
            foreach (var s in sizes)
            {
                if (s == 1 || s == size) continue;
                if (size != 1)
                    throw new InvalidOperationException($"Attention's operands do not broadcast along {what}: sizes {string.Join(", ", sizes)}.");
                size = s;
            }
            return size;
        }
    }
}
