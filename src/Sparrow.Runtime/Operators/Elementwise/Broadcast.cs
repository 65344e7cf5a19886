using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Elementwise;

/// <summary>Element math over one contiguous run; static so that the JIT inlines it into the driver.</summary>
internal interface IUnaryKernel<TIn, TOut>
{
    static abstract void Apply(ReadOnlySpan<TIn> x, Span<TOut> destination);
}

/// <summary>Binary element math over one run, in the three layouts a broadcast run can have.</summary>
internal interface IBinaryKernel<TA, TB, TOut>
{
    static abstract void Apply(ReadOnlySpan<TA> a, ReadOnlySpan<TB> b, Span<TOut> destination);

    static abstract void Apply(ReadOnlySpan<TA> a, TB b, Span<TOut> destination);

    static abstract void Apply(TA a, ReadOnlySpan<TB> b, Span<TOut> destination);
}

/// <summary>
/// The one broadcasting driver of the element-wise operators: builds a <see cref="BroadcastPlan"/> and
/// hands each run to a kernel. Outputs are new tensors; every element is written.
/// </summary>
internal static class Broadcast
{
    /// <summary>Threads for a run: the context's, or one during constant folding and tests without one.</summary>
    private static int Threads(RunContext? context) => context?.Threads ?? 1;

    public static Tensor<TOut> Unary<TIn, TOut, TKernel>(Tensor<TIn> x, RunContext? context,
        int minElementsPerThread = BroadcastPlan.DefaultMinElementsPerThread)
        where TIn : unmanaged where TOut : unmanaged where TKernel : IUnaryKernel<TIn, TOut>
    {
        var output = Tensor<TOut>.Allocate(x.Shape, clear: false);
        var plan = BroadcastPlan.CreateFor(x.CopyShape(), x.CopyShape());
        return Fill(output, plan, new UnaryVisitor<TIn, TOut, TKernel>(x, output), context, minElementsPerThread);
    }

    public static Tensor<TOut> Binary<TA, TB, TOut, TKernel>(Tensor<TA> a, Tensor<TB> b, RunContext? context,
        int minElementsPerThread = BroadcastPlan.DefaultMinElementsPerThread)
        where TA : unmanaged where TB : unmanaged where TOut : unmanaged where TKernel : IBinaryKernel<TA, TB, TOut>
    {
        var plan = BroadcastPlan.Create(a.CopyShape(), b.CopyShape());
        (context ?? RunContext.Default).EnsureFits(plan.OutputShape, DataTypes.Of<TOut>());
        var output = Tensor<TOut>.Allocate(plan.OutputShape, clear: false);
        return Fill(output, plan, new BinaryVisitor<TA, TB, TOut, TKernel>(a, b, output, plan), context, minElementsPerThread);
    }

    /// <summary>Where: condition ? x : y, all three broadcast together.</summary>
    public static Tensor<T> Select<T>(Tensor<bool> condition, Tensor<T> x, Tensor<T> y, RunContext? context,
        int minElementsPerThread = BroadcastPlan.DefaultMinElementsPerThread) where T : unmanaged
    {
        var plan = BroadcastPlan.Create(condition.CopyShape(), x.CopyShape(), y.CopyShape());
        (context ?? RunContext.Default).EnsureFits(plan.OutputShape, DataTypes.Of<T>());
        var output = Tensor<T>.Allocate(plan.OutputShape, clear: false);
        return Fill(output, plan, new SelectVisitor<T>(condition, x, y, output, plan), context, minElementsPerThread);
    }

    /// <summary>Expand: the input broadcast to <paramref name="outputShape"/> (copy or fill per run).</summary>
    public static Tensor<T> To<T>(Tensor<T> x, int[] outputShape, RunContext? context,
        int minElementsPerThread = BroadcastPlan.DefaultMinElementsPerThread) where T : unmanaged
    {
        // Expand and ConstantOfShape come here with shapes read from the graph: refuse a huge one before planning or allocating.
        (context ?? RunContext.Default).EnsureFits(outputShape, DataTypes.Of<T>());
        var plan = BroadcastPlan.CreateFor(outputShape, x.CopyShape());
        var output = Tensor<T>.Allocate(outputShape, clear: false);
        return Fill(output, plan, new CopyVisitor<T>(x, output, plan.IsInnerBroadcast(0)), context, minElementsPerThread);
    }

    /// <summary>Runs the plan into <paramref name="output"/>; on failure (a zero integer divisor) the output goes back to the pool.</summary>
    private static Tensor<TOut> Fill<TOut, TVisitor>(Tensor<TOut> output, BroadcastPlan plan, TVisitor visitor, RunContext? context, int minElementsPerThread)
        where TOut : unmanaged where TVisitor : struct, IRunVisitor
    {
        try
        {
            plan.Execute(visitor, Threads(context), minElementsPerThread);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    private readonly struct UnaryVisitor<TIn, TOut, TKernel>(Tensor<TIn> x, Tensor<TOut> output) : IRunVisitor
        where TIn : unmanaged where TOut : unmanaged where TKernel : IUnaryKernel<TIn, TOut>
    {
        public void Visit(ReadOnlySpan<int> inputOffsets, int outputOffset, int length) =>
            TKernel.Apply(x.Span.Slice(inputOffsets[0], length), output.Span.Slice(outputOffset, length));
    }

    private readonly struct BinaryVisitor<TA, TB, TOut, TKernel>(Tensor<TA> a, Tensor<TB> b, Tensor<TOut> output, BroadcastPlan plan) : IRunVisitor
        where TA : unmanaged where TB : unmanaged where TOut : unmanaged where TKernel : IBinaryKernel<TA, TB, TOut>
    {
        private readonly bool _aRepeats = plan.IsInnerBroadcast(0);
        private readonly bool _bRepeats = plan.IsInnerBroadcast(1);

        public void Visit(ReadOnlySpan<int> inputOffsets, int outputOffset, int length)
        {
            var destination = output.Span.Slice(outputOffset, length);
            int ao = inputOffsets[0], bo = inputOffsets[1];
            if (!_aRepeats)
            {
                if (!_bRepeats) TKernel.Apply(a.Span.Slice(ao, length), b.Span.Slice(bo, length), destination);
                else TKernel.Apply(a.Span.Slice(ao, length), b.Span[bo], destination);
            }
            else if (!_bRepeats) TKernel.Apply(a.Span[ao], b.Span.Slice(bo, length), destination);
            else
            {
                // Both sides fixed along the run (only when the output has a size-1 run): compute once, repeat.
                TKernel.Apply(a.Span.Slice(ao, 1), b.Span.Slice(bo, 1), destination[..1]);
                destination[1..].Fill(destination[0]);
            }
        }
    }

    private readonly struct SelectVisitor<T>(Tensor<bool> condition, Tensor<T> x, Tensor<T> y, Tensor<T> output, BroadcastPlan plan) : IRunVisitor
        where T : unmanaged
    {
        private readonly int _conditionStep = plan.IsInnerBroadcast(0) ? 0 : 1;
        private readonly int _xStep = plan.IsInnerBroadcast(1) ? 0 : 1;
        private readonly int _yStep = plan.IsInnerBroadcast(2) ? 0 : 1;

        public void Visit(ReadOnlySpan<int> inputOffsets, int outputOffset, int length)
        {
            var destination = output.Span.Slice(outputOffset, length);
            var c = condition.Span[inputOffsets[0]..];
            var xs = x.Span[inputOffsets[1]..];
            var ys = y.Span[inputOffsets[2]..];
            if (_conditionStep == 0)
            {
                // One condition for the whole run: it is a copy (or fill) of one side.
                var source = c[0] ? xs : ys;
                var step = c[0] ? _xStep : _yStep;
                if (step == 0) destination.Fill(source[0]);
                else source[..length].CopyTo(destination);
                return;
            }
            if (_xStep == 1 && _yStep == 1)
            {
                for (var i = 0; i < destination.Length; i++) destination[i] = c[i] ? xs[i] : ys[i];
                return;
            }
            for (var i = 0; i < destination.Length; i++) destination[i] = c[i] ? xs[i * _xStep] : ys[i * _yStep];
        }
    }

    private readonly struct CopyVisitor<T>(Tensor<T> x, Tensor<T> output, bool repeats) : IRunVisitor where T : unmanaged
    {
        public void Visit(ReadOnlySpan<int> inputOffsets, int outputOffset, int length)
        {
            var destination = output.Span.Slice(outputOffset, length);
            if (repeats) destination.Fill(x.Span[inputOffsets[0]]);
            else x.Span.Slice(inputOffsets[0], length).CopyTo(destination);
        }
    }
}
