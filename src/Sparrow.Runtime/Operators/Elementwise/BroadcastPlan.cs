using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators.Elementwise;

/// <summary>Receives one contiguous run of the output and where each input's elements for it start.</summary>
internal interface IRunVisitor
{
    /// <param name="inputOffsets">Per input, the element offset where the run starts. An input that is
    /// broadcast along the run (<see cref="BroadcastPlan.IsInnerBroadcast"/>) stays on that one element.</param>
    /// <param name="outputOffset">Offset of the run in the (contiguous) output.</param>
    /// <param name="length">Elements in the run, at least 1.</param>
    void Visit(ReadOnlySpan<int> inputOffsets, int outputOffset, int length);
}

/// <summary>
/// How inputs map onto a broadcast output under the ONNX (numpy) rules, reduced to as few dimensions as
/// possible: output dimensions of size 1 are dropped and neighbouring dimensions merged wherever every
/// input is laid out the same way across both. What is left is an inner run (contiguous in the output,
/// and for each input either contiguous or a single repeated element) and outer dimensions walked with
/// per-input strides (0 where the input is broadcast). The common cases fall out of this:
/// equal shapes and a scalar operand become one run over the whole tensor; a bias row [384] added to
/// [b,s,384] becomes b*s runs of 384 contiguous elements on both sides; [b,s,384] with [b,s,1] becomes
/// runs where one side is a single element.
/// </summary>
internal sealed class BroadcastPlan
{
    /// <summary>Below this many output elements per thread, splitting the work costs more than it saves.</summary>
    public const int DefaultMinElementsPerThread = 1 << 15;

    private readonly int[] _outerShape;
    private readonly int[][] _outerStrides;
    private readonly bool[] _innerBroadcast;

    private BroadcastPlan(int[] outputShape, int innerLength, int[] outerShape, int[][] outerStrides, bool[] innerBroadcast)
    {
        OutputShape = outputShape;
        OutputLength = TensorShape.Product(outputShape);
        InnerLength = innerLength;
        _outerShape = outerShape;
        _outerStrides = outerStrides;
        _innerBroadcast = innerBroadcast;
    }

    public int[] OutputShape { get; }

    public int OutputLength { get; }

    /// <summary>Elements per run (the merged innermost dimension).</summary>
    public int InnerLength { get; }

    public int InputCount => _innerBroadcast.Length;

    /// <summary>Number of runs.</summary>
    public int RunCount => OutputLength == 0 ? 0 : OutputLength / InnerLength;

    /// <summary>Dimensions left after dropping size-1 dimensions and merging (inner run included).</summary>
    public int MergedRank => _outerShape.Length + 1;

    /// <summary>Whether input <paramref name="input"/> repeats one element along each run.</summary>
    public bool IsInnerBroadcast(int input) => _innerBroadcast[input];

    /// <summary>The plan for inputs broadcast together; the output shape is their common broadcast shape.</summary>
    public static BroadcastPlan Create(params int[][] inputShapes)
    {
        var output = inputShapes.Length == 0 ? Array.Empty<int>() : inputShapes[0];
        for (var i = 1; i < inputShapes.Length; i++)
            output = TensorShape.TryBroadcast(output, inputShapes[i]) ?? throw new ArgumentException(
                $"input shapes {string.Join(" and ", inputShapes.Select(s => TensorShape.Format(s)))} do not broadcast (ONNX/numpy rules).");
        return CreateFor(output, inputShapes);
    }

    /// <summary>The plan for inputs broadcast to a given output shape (each input must broadcast to it one way).</summary>
    public static BroadcastPlan CreateFor(int[] outputShape, params int[][] inputShapes)
    {
        var rank = outputShape.Length;
        var count = inputShapes.Length;
        // Per kept output dimension (size > 1), outermost first: its size and each input's stride.
        var sizes = new List<int>(rank);
        var strides = new List<int[]>(rank);
        var inputStrides = inputShapes.Select(s => TensorShape.Strides(s)).ToArray();
        for (var d = 0; d < rank; d++)
        {
            var size = outputShape[d];
            var perInput = new int[count];
            for (var k = 0; k < count; k++)
            {
                var shape = inputShapes[k];
                if (shape.Length > rank)
                    throw new ArgumentException($"input shape {TensorShape.Format(shape)} has more dimensions than the output shape {TensorShape.Format(outputShape)}.");
                var kd = d - (rank - shape.Length);
                var inputSize = kd >= 0 ? shape[kd] : 1;
                if (inputSize != size && inputSize != 1)
                    throw new ArgumentException($"input shape {TensorShape.Format(shape)} does not broadcast to {TensorShape.Format(outputShape)}.");
                perInput[k] = inputSize == 1 ? 0 : inputStrides[k][kd];
            }
            if (size == 1) continue;
            sizes.Add(size);
            strides.Add(perInput);
        }
        if (sizes.Count == 0)
        {
            // A single element (or an empty tensor whose zero-size dimension was kept; handled below).
            sizes.Add(1);
            strides.Add(new int[count]);
        }

        // Merge from the inside out: an outer dimension joins the group inside it when, for every input,
        // stepping it once equals stepping the whole group once.
        var mergedSizes = new List<int> { sizes[^1] };
        var mergedStrides = new List<int[]> { strides[^1] };
        for (var d = sizes.Count - 2; d >= 0; d--)
        {
            var groupSize = mergedSizes[^1];
            var groupStrides = mergedStrides[^1];
            var mergeable = true;
            for (var k = 0; k < count && mergeable; k++)
                mergeable = strides[d][k] == (long)groupStrides[k] * groupSize;
            if (mergeable) mergedSizes[^1] = groupSize * sizes[d];
            else
            {
                mergedSizes.Add(sizes[d]);
                mergedStrides.Add(strides[d]);
            }
        }
        mergedSizes.Reverse();
        mergedStrides.Reverse();

        var inner = mergedSizes[^1];
        var innerBroadcast = new bool[count];
        for (var k = 0; k < count; k++) innerBroadcast[k] = mergedStrides[^1][k] == 0;
        var outerRank = mergedSizes.Count - 1;
        var outerShape = mergedSizes.Take(outerRank).ToArray();
        var outerStrides = new int[count][];
        for (var k = 0; k < count; k++)
        {
            outerStrides[k] = new int[outerRank];
            for (var d = 0; d < outerRank; d++) outerStrides[k][d] = mergedStrides[d][k];
        }
        return new BroadcastPlan((int[])outputShape.Clone(), inner, outerShape, outerStrides, innerBroadcast);
    }

    /// <summary>
    /// Calls the visitor for every run of the output, in order when single-threaded. With several threads
    /// the output is cut into equal slices (runs may be split at slice edges), each walked by one thread;
    /// the visitor is copied per slice, so it must hold no mutable state.
    /// </summary>
    public void Execute<TVisitor>(TVisitor visitor, int threads, int minElementsPerThread = DefaultMinElementsPerThread)
        where TVisitor : struct, IRunVisitor
    {
        var length = OutputLength;
        if (length == 0) return;
        var slices = (int)Math.Min(Math.Max(threads, 1), Math.Max(1L, length / Math.Max(1, minElementsPerThread)));
        if (slices <= 1)
        {
            ExecuteRange(ref visitor, 0, length);
            return;
        }
        // GemmParallel reports the first exception from the kernel as itself, as a single-threaded run would.
        GemmParallel.For(slices, slices, slice =>
        {
            var copy = visitor;
            ExecuteRange(ref copy, SliceStart(slice, slices, length), SliceStart(slice + 1, slices, length));
        });
    }

    /// <summary>Slice edges on multiples of 16 elements so that neighbouring threads do not share cache lines.</summary>
    private static int SliceStart(int slice, int slices, int length)
    {
        if (slice >= slices) return length;
        var start = (long)length * slice / slices;
        return (int)Math.Min(length, start & ~15L);
    }

    /// <summary>Visits the runs covering output elements [start, end).</summary>
    internal void ExecuteRange<TVisitor>(ref TVisitor visitor, int start, int end) where TVisitor : struct, IRunVisitor
    {
        if (start >= end) return;
        var count = InputCount;
        var outerRank = _outerShape.Length;
        Span<int> offsets = count <= 8 ? stackalloc int[count] : new int[count];
        Span<int> runOffsets = count <= 8 ? stackalloc int[count] : new int[count];
        Span<int> index = outerRank <= 16 ? stackalloc int[outerRank] : new int[outerRank];

        var run = start / InnerLength;
        var column = start % InnerLength;
        for (var d = outerRank - 1; d >= 0; d--)
        {
            index[d] = run % _outerShape[d];
            run /= _outerShape[d];
        }
        for (var k = 0; k < count; k++)
        {
            var offset = 0;
            for (var d = 0; d < outerRank; d++) offset += index[d] * _outerStrides[k][d];
            offsets[k] = offset;
        }

        var position = start;
        while (position < end)
        {
            var length = Math.Min(InnerLength - column, end - position);
            for (var k = 0; k < count; k++) runOffsets[k] = _innerBroadcast[k] ? offsets[k] : offsets[k] + column;
            visitor.Visit(runOffsets, position, length);
            position += length;
            column = 0;
            // Step the outer index like an odometer, keeping each input's offset in step.
            for (var d = outerRank - 1; d >= 0; d--)
            {
                if (++index[d] < _outerShape[d])
                {
                    for (var k = 0; k < count; k++) offsets[k] += _outerStrides[k][d];
                    break;
                }
                index[d] = 0;
                for (var k = 0; k < count; k++) offsets[k] -= _outerStrides[k][d] * (_outerShape[d] - 1);
            }
        }
    }
}
