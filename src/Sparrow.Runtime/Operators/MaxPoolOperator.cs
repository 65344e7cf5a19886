using System.Numerics;
using Sparrow.Graph;
using Sparrow.Runtime.Operators.Pooling;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX MaxPool over 1 to 3 spatial dimensions: kernel_shape, strides, pads, dilations, ceil_mode,
/// auto_pad, and the optional Indices output (flat positions in the input, row-major or, with
/// storage_order=1, column-major within each plane). Padding never wins the maximum. float32, float64,
/// float16, int8 and uint8.
/// </summary>
[OnnxOperator("MaxPool")]
internal sealed class MaxPoolOperator : Operator
{
    private readonly PoolAttributes _attributes;
    private readonly bool _columnMajor;

    public MaxPoolOperator(Node node, OperatorContext context) : base(node)
    {
        _attributes = new PoolAttributes(node);
        var storageOrder = node.GetInt("storage_order", 0);
        if (storageOrder is not (0 or 1)) throw new ArgumentException($"MaxPool storage_order {storageOrder} must be 0 (row major) or 1 (column major).");
        _columnMajor = storageOrder == 1;
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = Required(inputs, 0);
        var geometry = _attributes.Resolve(x.Shape);
        var withIndices = Node.Outputs.Count > 1 && Node.Outputs[1].Length > 0;
        return x switch
        {
            Tensor<float> f => Pool(f, geometry, withIndices, context),
            Tensor<double> d => Pool(d, geometry, withIndices, context),
            Tensor<Half> h => Pool(h, geometry, withIndices, context),
            Tensor<byte> b => Pool(b, geometry, withIndices, context),
            Tensor<sbyte> s => Pool(s, geometry, withIndices, context),
            _ => throw new NotSupportedException($"MaxPool of {DataTypes.Name(x.ElementType)} is not supported."),
        };
    }

    private Tensor[] Pool<T>(Tensor<T> x, PoolGeometry g, bool withIndices, RunContext context)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        var outShape = g.OutputShape(_attributes.SpatialRank);
        var y = Tensor<T>.Allocate(outShape, clear: false);
        var indices = withIndices ? Tensor<long>.Allocate(outShape, clear: false) : null;
        var (tapsD, _) = g.Taps(0);
        var (tapsH, _) = g.Taps(1);
        var (tapsW, _) = g.Taps(2);
        int depth = g.Input[0], height = g.Input[1], width = g.Input[2];
        var inPlane = g.InputPlane;
        var outPlane = g.OutputPlane;
        var columnMajor = _columnMajor;
        var window = g.Kernel[0] * g.Kernel[1] * g.Kernel[2];
        ParallelRows.For(g.Batch * g.Channels, (long)outPlane * window, context.Threads, (start, end) =>
        {
            var xs = x.Span;
            var ys = y.Span;
            var ids = indices is null ? default : indices.Span;
            for (var p = start; p < end; p++)
            {
                var src = xs.Slice(p * inPlane, inPlane);
                var o = p * outPlane;
                for (var od = 0; od < tapsD.Length; od++)
                for (var oh = 0; oh < tapsH.Length; oh++)
                for (var ow = 0; ow < tapsW.Length; ow++, o++)
                {
                    var best = T.MinValue;
                    int bd = 0, bh = 0, bw = 0;
                    var found = false;
                    foreach (var td in tapsD[od])
                    foreach (var th in tapsH[oh])
                    {
                        var row = src.Slice((td * height + th) * width, width);
                        foreach (var tw in tapsW[ow])
                        {
                            var v = row[tw];
                            if (!found || v > best)
                            {
                                best = v;
                                (bd, bh, bw) = (td, th, tw);
                                found = true;
                            }
                        }
                    }
                    ys[o] = best;
                    if (!ids.IsEmpty)
                    {
                        var within = columnMajor ? bd + depth * (bh + height * bw) : (bd * height + bh) * width + bw;
                        ids[o] = (long)p * inPlane + within;
                    }
                }
            }
        });
        return indices is null ? new Tensor[] { y } : new Tensor[] { y, indices };
    }
}
