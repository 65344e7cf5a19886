using Sparrow.Graph;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX Slice: starts/ends/axes as attributes (opset 1) or starts/ends/axes/steps as inputs (opset 10+).
/// Negative starts and ends count from the end, out-of-range values are clamped, negative steps walk
/// backwards. Any element type.
/// </summary>
[OnnxOperator("Slice")]
internal sealed class SliceOperator : Operator
{
    private readonly long[]? _startsAttribute;
    private readonly long[]? _endsAttribute;
    private readonly long[]? _axesAttribute;

    public SliceOperator(Node node, OperatorContext context) : base(node)
    {
        if (context.Opset < 10)
        {
            _startsAttribute = node.GetInts("starts") ?? throw new ArgumentException("Slice needs the 'starts' attribute before opset 10.");
            _endsAttribute = node.GetInts("ends") ?? throw new ArgumentException("Slice needs the 'ends' attribute before opset 10.");
            _axesAttribute = node.GetInts("axes");
        }
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var data = Required(inputs, 0);
        long[] starts, ends;
        long[]? axes, steps = null;
        if (_startsAttribute is not null)
        {
            starts = _startsAttribute;
            ends = _endsAttribute!;
            axes = _axesAttribute;
        }
        else
        {
            starts = ShapeInputs.ReadIntegers(Required(inputs, 1), "Slice starts");
            ends = ShapeInputs.ReadIntegers(Required(inputs, 2), "Slice ends");
            axes = Optional(inputs, 3) is { } a ? ShapeInputs.ReadIntegers(a, "Slice axes") : null;
            steps = Optional(inputs, 4) is { } s ? ShapeInputs.ReadIntegers(s, "Slice steps") : null;
        }
        var (offset, sourceSteps, shape) = Resolve(data.Shape, starts, ends, axes, steps);
        var output = ShapeInputs.AllocateUninitialized(data.ElementType, shape);
        StridedCopy.Copy(data, offset, sourceSteps, output);
        return new[] { output };
    }

    /// <summary>The first source element, the source step per output axis, and the output shape.</summary>
    public static (int Offset, int[] Steps, int[] Shape) Resolve(ReadOnlySpan<int> inputShape, long[] starts, long[] ends, long[]? axes, long[]? steps)
    {
        var rank = inputShape.Length;
        if (ends.Length != starts.Length)
            throw new ArgumentException($"Slice starts {ShapeInputs.Format(starts)} and ends {ShapeInputs.Format(ends)} differ in length.");
        if (axes is not null && axes.Length != starts.Length)
            throw new ArgumentException($"Slice axes {ShapeInputs.Format(axes)} and starts {ShapeInputs.Format(starts)} differ in length.");
        if (steps is not null && steps.Length != starts.Length)
            throw new ArgumentException($"Slice steps {ShapeInputs.Format(steps)} and starts {ShapeInputs.Format(starts)} differ in length.");
        if (axes is null && starts.Length > rank)
            throw new ArgumentException($"Slice has {starts.Length} starts but the input has rank {rank}.");
        var axisList = axes is null ? Enumerable.Range(0, starts.Length).ToArray() : ShapeInputs.NormalizeAxes(axes, rank, "Slice axis");

        var strides = TensorShape.Strides(inputShape);
        var shape = inputShape.ToArray();
        var begin = new long[rank];
        var step = new long[rank];
        Array.Fill(step, 1);
        for (var i = 0; i < axisList.Length; i++)
        {
            var axis = axisList[i];
            long dim = inputShape[axis];
            var st = steps?[i] ?? 1;
            if (st == 0) throw new ArgumentException($"Slice step for axis {axis} is 0.");
            var s = starts[i];
            var e = ends[i];
            if (s < 0) s += dim;
            if (e < 0) e += dim;
            long count;
            if (dim == 0)
            {
                count = 0;
            }
            else if (st > 0)
            {
                s = Math.Clamp(s, 0, dim);
                e = Math.Clamp(e, 0, dim);
                count = e > s ? (e - s + st - 1) / st : 0;
            }
            else
            {
                s = Math.Clamp(s, 0, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
                count = s > e ? (s - e + (-st) - 1) / -st : 0;
            }
            shape[axis] = (int)count;
            begin[axis] = count == 0 ? 0 : s;
            step[axis] = st;
        }
        long offset = 0;
        var sourceSteps = new int[rank];
        for (var a = 0; a < rank; a++)
        {
            offset += begin[a] * strides[a];
            // An axis with one element or none never steps, which also keeps huge steps from overflowing.
            sourceSteps[a] = shape[a] <= 1 ? 0 : (int)(step[a] * strides[a]);
        }
        return ((int)offset, sourceSteps, shape);
    }
}
