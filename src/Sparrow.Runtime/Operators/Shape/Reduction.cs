using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Shape;

/// <summary>
/// What ReduceSum and ReduceMean share: the axes (an attribute in early opsets, an optional input later),
/// keepdims, noop_with_empty_axes, and a sum kernel that merges neighbouring axes so that every reduction
/// becomes sums of contiguous rows or additions of contiguous rows.
/// </summary>
internal abstract class ReductionOperator : Operator
{
    private readonly long[]? _axesAttribute;
    private readonly bool _axesFromInput;
    private readonly bool _keepDims;
    private readonly bool _noopWithEmptyAxes;
    private readonly string _name;

    /// <param name="axesInputOpset">The opset from which the axes are the second input instead of an attribute.</param>
    protected ReductionOperator(Node node, OperatorContext context, long axesInputOpset) : base(node)
    {
        _name = node.OpType;
        _axesFromInput = context.Opset >= axesInputOpset;
        if (!_axesFromInput) _axesAttribute = node.GetInts("axes");
        _keepDims = node.GetInt("keepdims", 1) != 0;
        _noopWithEmptyAxes = node.GetInt("noop_with_empty_axes", 0) != 0;
    }

    /// <summary>Whether to divide the sums by the number of reduced elements.</summary>
    protected abstract bool Mean { get; }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var data = Required(inputs, 0);
        var axesTensor = _axesFromInput ? Optional(inputs, 1) : null;
        var axes = axesTensor is not null ? ShapeInputs.ReadIntegers(axesTensor, $"{_name} axes") : _axesAttribute;
        var rank = data.Rank;
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0)
        {
            if (_noopWithEmptyAxes) return new[] { data.Reshape(data.Shape) };
            Array.Fill(reduced, true);
        }
        else
        {
            foreach (var a in ShapeInputs.NormalizeAxes(axes, rank, $"{_name} axis")) reduced[a] = true;
        }
        return data switch
        {
            Tensor<float> f => new Tensor[] { Reduce(f, reduced, _keepDims, Mean) },
            Tensor<double> d => new Tensor[] { Reduce(d, reduced, _keepDims, Mean) },
            Tensor<long> l => new Tensor[] { Reduce(l, reduced, _keepDims, Mean) },
            Tensor<int> i => new Tensor[] { Reduce(i, reduced, _keepDims, Mean) },
            _ => throw new NotSupportedException($"{_name} of {DataTypes.Name(data.ElementType)} is not supported."),
        };
    }

    /// <summary>Sums (or means) over the flagged axes.</summary>
    internal static Tensor<T> Reduce<T>(Tensor<T> data, bool[] reduced, bool keepDims, bool mean)
        where T : unmanaged, INumberBase<T>
    {
        var shape = data.Shape;
        var outShape = new List<int>(shape.Length);
        long count = 1;
        for (var i = 0; i < shape.Length; i++)
        {
            if (reduced[i]) count *= shape[i];
            if (!reduced[i]) outShape.Add(shape[i]);
            else if (keepDims) outShape.Add(1);
        }
        var output = Tensor<T>.Allocate(outShape.ToArray(), clear: true);
        var result = output.Span;
        if (data.Length > 0) Sum(data.Span, shape, reduced, result);
        if (mean)
        {
            // An empty reduction has no mean: 0/0, NaN for floats, as the ONNX reference gives.
            if (count == 0 && (typeof(T) == typeof(float) || typeof(T) == typeof(double))) result.Fill(T.CreateChecked(double.NaN));
            else if (count > 1) TensorPrimitives.Divide(result, T.CreateChecked(count), result);
        }
        return output;
    }

    private static void Sum<T>(ReadOnlySpan<T> x, ReadOnlySpan<int> shape, bool[] reduced, Span<T> output)
        where T : unmanaged, INumberBase<T>
    {
        // Merge neighbouring axes with the same role; axes of size 1 play no role.
        var dims = new List<int>();
        var flags = new List<bool>();
        for (var i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            if (flags.Count > 0 && flags[^1] == reduced[i]) dims[^1] *= shape[i];
            else
            {
                dims.Add(shape[i]);
                flags.Add(reduced[i]);
            }
        }
        if (dims.Count == 0)
        {
            output[0] += x[0];
            return;
        }
        var rank = dims.Count;
        // Output stride per merged axis: 0 for reduced axes.
        var outStep = new int[rank];
        var stride = 1;
        for (var i = rank - 1; i >= 0; i--)
        {
            outStep[i] = flags[i] ? 0 : stride;
            if (!flags[i]) stride *= dims[i];
        }
        var row = dims[rank - 1];
        var innerReduced = flags[rank - 1];
        var index = new int[rank];
        var o = 0;
        for (var offset = 0; offset < x.Length; offset += row)
        {
            var source = x.Slice(offset, row);
            if (innerReduced) output[o] += TensorPrimitives.Sum(source);
            else
            {
                var target = output.Slice(o, row);
                TensorPrimitives.Add(target, source, target);
            }
            for (var a = rank - 2; a >= 0; a--)
            {
                o += outStep[a];
                if (++index[a] < dims[a]) break;
                o -= outStep[a] * dims[a];
                index[a] = 0;
            }
        }
    }
}
