using Sparrow.Graph;
using Sparrow.Runtime.Operators.Pooling;
using Sparrow.Runtime.Operators.Shape;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX AveragePool over 1 to 3 spatial dimensions of float32: kernel_shape, strides, pads, ceil_mode,
/// auto_pad, dilations (opset 19). With count_include_pad=1 the divisor counts taps in the explicit
/// padding too (not the extra room that ceil_mode adds past it); otherwise only taps inside the input.
/// </summary>
[OnnxOperator("AveragePool")]
internal sealed class AveragePoolOperator : Operator
{
    private readonly PoolAttributes _attributes;
    private readonly bool _countIncludePad;

    public AveragePoolOperator(Node node, OperatorContext context) : base(node)
    {
        _attributes = new PoolAttributes(node);
        _countIncludePad = node.GetInt("count_include_pad", 0) != 0;
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        var g = _attributes.Resolve(x.Shape);
        var y = Tensor<float>.Allocate(g.OutputShape(_attributes.SpatialRank), clear: false);
        var (tapsD, paddedD) = g.Taps(0);
        var (tapsH, paddedH) = g.Taps(1);
        var (tapsW, paddedW) = g.Taps(2);
        int height = g.Input[1], width = g.Input[2];
        var inPlane = g.InputPlane;
        var outPlane = g.OutputPlane;
        var countIncludePad = _countIncludePad;
        var window = g.Kernel[0] * g.Kernel[1] * g.Kernel[2];
        ParallelRows.For(g.Batch * g.Channels, (long)outPlane * window, context.Threads, (start, end) =>
        {
            var xs = x.Span;
            var ys = y.Span;
            for (var p = start; p < end; p++)
            {
                var src = xs.Slice(p * inPlane, inPlane);
                var o = p * outPlane;
                for (var od = 0; od < tapsD.Length; od++)
                for (var oh = 0; oh < tapsH.Length; oh++)
                for (var ow = 0; ow < tapsW.Length; ow++, o++)
                {
                    var sum = 0f;
                    foreach (var td in tapsD[od])
                    foreach (var th in tapsH[oh])
                    {
                        var row = src.Slice((td * height + th) * width, width);
                        foreach (var tw in tapsW[ow]) sum += row[tw];
                    }
                    var count = countIncludePad
                        ? paddedD[od] * paddedH[oh] * paddedW[ow]
                        : tapsD[od].Length * tapsH[oh].Length * tapsW[ow].Length;
                    // A window wholly in padding has no average; NaN as the ONNX reference gives.
                    ys[o] = count == 0 ? float.NaN : sum / count;
                }
            }
        });
        return new Tensor[] { y };
    }
}
