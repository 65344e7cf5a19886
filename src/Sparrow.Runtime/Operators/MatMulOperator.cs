using System.Numerics;
using Sparrow.Graph;
using Sparrow.Runtime.Sparsity;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX MatMul with numpy semantics: 1-D operands gain (then lose) a unit dimension, batch dimensions
/// broadcast. float32 runs on <see cref="Sgemm"/>; when B is a 2-D constant initializer the session turns it
/// once into the form it runs fastest in (packed for the GEMM, or a sparse format) and this operator keeps
/// only that form. Other numeric types take a plain loop.
/// </summary>
[OnnxOperator("MatMul")]
internal sealed class MatMulOperator : Operator
{
    private readonly PreparedWeight? _weight;
    private readonly ActivationSparseWeight? _activationSparse;

    public MatMulOperator(Node node, OperatorContext context) : base(node)
    {
        if (node.Inputs.Count != 2) throw new ArgumentException($"MatMul takes 2 inputs, got {node.Inputs.Count}.");
        if (context.WeightKernels is { } kernels && context.FixedConstant(node.Inputs[1]) is Tensor<float> { Rank: 2 } b)
        {
            _weight = kernels.Prepare(node, node.Inputs[1], b, transposed: false);
            context.OwnInput(node, 1);
        }
        _activationSparse = ActivationSparseWeight.TryCreate(node, context);
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var a = Required(inputs, 0);
        if (_activationSparse is not null && a is Tensor<float> af) return [RunActivationSparse(af, inputs, context)];
        if (_weight is not null) return [RunPrepared(a, context)];
        var b = Required(inputs, 1);
        if (a.ElementType != b.ElementType)
            throw new InvalidOperationException($"MatMul operands differ in type: {DataTypes.Name(a.ElementType)} and {DataTypes.Name(b.ElementType)}.");
        var plan = MatMulShape.Plan(a.Shape, b.Shape);
        return a switch
        {
            Tensor<float> fa => [RunFloat(fa, (Tensor<float>)b, plan, context)],
            Tensor<double> da => [MatMulShape.RunNaive(da, (Tensor<double>)b, plan)],
            Tensor<int> ia => [MatMulShape.RunNaive(ia, (Tensor<int>)b, plan)],
            Tensor<long> la => [MatMulShape.RunNaive(la, (Tensor<long>)b, plan)],
            Tensor<uint> ua => [MatMulShape.RunNaive(ua, (Tensor<uint>)b, plan)],
            Tensor<ulong> ula => [MatMulShape.RunNaive(ula, (Tensor<ulong>)b, plan)],
            _ => throw new NotSupportedException($"MatMul of {DataTypes.Name(a.ElementType)} is not supported."),
        };
    }

    /// <summary>B is the weight this operator holds (2-D), so A's batch folds into its rows.</summary>
    private Tensor<float> RunPrepared(Tensor a, RunContext context)
    {
        var weight = _weight!;
        var fa = a as Tensor<float> ?? throw new InvalidOperationException(
            $"MatMul operands differ in type: {DataTypes.Name(a.ElementType)} and float32.");
        var plan = MatMulShape.Plan(fa.Shape, [weight.Inputs, weight.Outputs]);
        var y = Tensor<float>.Allocate(plan.OutputShape, clear: false);
        try
        {
            weight.Multiply(fa.Span, plan.Batch * plan.M, y.Span, default, FusedActivation.None, context.Threads);
            return y;
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }

    /// <summary>
    /// B has a calibrated activation threshold: one row runs the column-skipping kernel; more rows the normal
    /// path, on thresholded inputs when the session says so.
    /// </summary>
    private Tensor<float> RunActivationSparse(Tensor<float> a, ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var sparse = _activationSparse!;
        var plan = MatMulShape.Plan(a.Shape, [sparse.Inputs, sparse.Outputs]);
        var rows = plan.Batch * plan.M;
        if (rows != 1 && !sparse.EveryRow)
            return _weight is not null ? RunPrepared(a, context) : RunFloat(a, (Tensor<float>)Required(inputs, 1), plan, context);
        var y = Tensor<float>.Allocate(plan.OutputShape, clear: false);
        float[]? thresholded = null;
        try
        {
            if (rows == 1)
            {
                sparse.MultiplyRow(a.Span, y.Span, default, FusedActivation.None);
                return y;
            }
            thresholded = sparse.ThresholdedCopy(a.Span, rows);
            var x = thresholded.AsSpan(0, rows * sparse.Inputs);
            if (_weight is not null) _weight.Multiply(x, rows, y.Span, default, FusedActivation.None, context.Threads);
            else plan.RunFloat(x, ((Tensor<float>)Required(inputs, 1)).Span, y.Span, context.Threads);
            return y;
        }
        catch
        {
            y.Dispose();
            throw;
        }
        finally
        {
            if (thresholded is not null) System.Buffers.ArrayPool<float>.Shared.Return(thresholded);
        }
    }

    private static Tensor<float> RunFloat(Tensor<float> a, Tensor<float> b, MatMulShape plan, RunContext context)
    {
        var y = Tensor<float>.Allocate(plan.OutputShape, clear: false);
        try
        {
            plan.RunFloat(a.Span, b.Span, y.Span, context.Threads);
            return y;
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }
}

/// <summary>
/// How a MatMul's operands map onto matrix products: M, N, K, the broadcast batch, and where each product's
/// operands start. Shared by MatMul and Sparrow's fused Linear.
/// </summary>
internal sealed class MatMulShape
{
    public required int M { get; init; }
    public required int N { get; init; }
    public required int K { get; init; }
    public required int Batch { get; init; }
    public required int[] OutputShape { get; init; }

    /// <summary>Element offset of A, B and C for each product (A and B repeat where they broadcast).</summary>
    public required int[] OffsetsA { get; init; }
    public required int[] OffsetsB { get; init; }

    /// <summary>B is one matrix shared by every product (its batch is all ones), so A's batch folds into M.</summary>
    public required bool SharedB { get; init; }

    public static MatMulShape Plan(ReadOnlySpan<int> aShape, ReadOnlySpan<int> bShape)
    {
        if (aShape.Length == 0 || bShape.Length == 0)
            throw new InvalidOperationException($"MatMul needs operands of rank 1 or more, got {TensorShape.Format(aShape)} and {TensorShape.Format(bShape)}.");
        // numpy: a 1-D A is a row [1, K], a 1-D B a column [K, 1]; those unit dimensions leave the result.
        var a = aShape.Length == 1 ? new[] { 1, aShape[0] } : aShape.ToArray();
        var b = bShape.Length == 1 ? new[] { bShape[0], 1 } : bShape.ToArray();
        int m = a[^2], k = a[^1], n = b[^1];
        if (b[^2] != k)
            throw new InvalidOperationException($"MatMul operands do not match: {TensorShape.Format(aShape)} x {TensorShape.Format(bShape)} (inner dimensions {k} and {b[^2]}).");
        var batchA = a.AsSpan(0, a.Length - 2);
        var batchB = b.AsSpan(0, b.Length - 2);
        var batchShape = TensorShape.TryBroadcast(batchA, batchB)
            ?? throw new InvalidOperationException($"MatMul batch dimensions do not broadcast: {TensorShape.Format(aShape)} x {TensorShape.Format(bShape)}.");
        var output = new List<int>(batchShape);
        if (aShape.Length > 1) output.Add(m);
        if (bShape.Length > 1) output.Add(n);
        var batch = TensorShape.Product(batchShape);
        var offsetsA = BroadcastOffsets(batchShape, batchA, m * k);
        var offsetsB = BroadcastOffsets(batchShape, batchB, k * n);
        var sharedB = TensorShape.Product(batchB) == 1;
        return new MatMulShape
        {
            M = m, N = n, K = k, Batch = batch, OutputShape = output.ToArray(),
            OffsetsA = offsetsA, OffsetsB = offsetsB, SharedB = sharedB,
        };
    }

    /// <summary>For each index of the broadcast batch, the offset of the operand's matrix (its own batch right-aligned).</summary>
    private static int[] BroadcastOffsets(int[] batchShape, ReadOnlySpan<int> operandBatch, int matrixSize)
    {
        var batch = TensorShape.Product(batchShape);
        var offsets = new int[batch];
        var rank = batchShape.Length;
        var lead = rank - operandBatch.Length;
        var strides = new int[rank];
        var s = matrixSize;
        for (var d = rank - 1; d >= lead; d--)
        {
            var size = operandBatch[d - lead];
            strides[d] = size == 1 ? 0 : s;
            s *= size;
        }
        var index = new int[rank];
        for (var i = 0; i < batch; i++)
        {
            var offset = 0;
            for (var d = 0; d < rank; d++) offset += index[d] * strides[d];
            offsets[i] = offset;
            for (var d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < batchShape[d]) break;
                index[d] = 0;
            }
        }
        return offsets;
    }

    public void RunFloat(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, int threads)
    {
        if (y.IsEmpty) return;
        if (SharedB && IsContiguous(OffsetsA, M * K))
        {
            // One B for the whole batch: one product with the batch stacked into rows.
            Sgemm.Multiply(Batch * M, N, K, a, K, false, b, N, false, y, N, maxThreads: threads);
            return;
        }
        var offsetsC = new int[Batch];
        for (var i = 0; i < Batch; i++) offsetsC[i] = i * M * N;
        Sgemm.MultiplyBatched(Batch, M, N, K, a, K, false, OffsetsA, b, N, false, OffsetsB, y, N, offsetsC, maxThreads: threads);
    }

    private static bool IsContiguous(int[] offsets, int size)
    {
        for (var i = 0; i < offsets.Length; i++) if (offsets[i] != i * size) return false;
        return true;
    }

    public static Tensor<T> RunNaive<T>(Tensor<T> a, Tensor<T> b, MatMulShape plan) where T : unmanaged, INumber<T>
    {
        var y = Tensor<T>.Allocate(plan.OutputShape);
        var sa = a.Span;
        var sb = b.Span;
        var sy = y.Span;
        for (var item = 0; item < plan.Batch; item++)
        {
            var pa = sa[plan.OffsetsA[item]..];
            var pb = sb[plan.OffsetsB[item]..];
            var py = sy[(item * plan.M * plan.N)..];
            for (var i = 0; i < plan.M; i++)
            for (var p = 0; p < plan.K; p++)
            {
                var x = pa[i * plan.K + p];
                for (var j = 0; j < plan.N; j++) py[i * plan.N + j] += x * pb[p * plan.N + j];
            }
        }
        return y;
    }
}
