using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Training.Backward;

/// <summary>
/// 2-D Conv (groups, strides, dilations, explicit pads or auto_pad): per image and group the input is
/// unrolled into columns [C/g·kh·kw, OH·OW]; dW += dY · columnsᵀ, d(columns) = Wᵀ · dY folded back into dX,
/// dB = Σ dY. Other spatial ranks are not supported yet.
/// </summary>
[BackwardRule("Conv")]
internal sealed class ConvRule : BackwardRule
{
    private readonly string _autoPad;
    private readonly long[]? _pads;
    private readonly long[]? _strides;
    private readonly long[]? _dilations;
    private readonly int _group;

    /// <summary>Compiles the rule.</summary>
    public ConvRule(Node node, OperatorContext context) : base(node)
    {
        _autoPad = node.GetString("auto_pad", "NOTSET");
        _pads = node.GetInts("pads");
        _strides = node.GetInts("strides");
        _dilations = node.GetInts("dilations");
        _group = (int)node.GetInt("group", 1);
    }

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var result = new Tensor<float>?[context.Inputs.Length];
        var x = context.Input(0);
        var w = context.Input(1);
        var dy = context.OutputGradient(0);
        if (x.Rank != 4) throw new NotSupportedException($"the Conv backward rule handles 2-D images [N,C,H,W] only, got {TensorShape.Format(x.Shape)}.");
        int batch = x.Shape[0], channels = x.Shape[1], height = x.Shape[2], width = x.Shape[3];
        int filters = w.Shape[0], kh = w.Shape[2], kw = w.Shape[3];
        int outH = dy.Shape[2], outW = dy.Shape[3];
        int sh = (int)(_strides?[0] ?? 1), sw = (int)(_strides?[1] ?? 1);
        int dh = (int)(_dilations?[0] ?? 1), dw = (int)(_dilations?[1] ?? 1);
        var (padTop, padLeft) = LeadingPads(height, width, kh, kw, sh, sw, dh, dw);
        int cg = channels / _group, mg = filters / _group, rows = cg * kh * kw, pixels = outH * outW;

        var dx = context.Needs(0) ? Tensor<float>.Allocate(x.Shape, clear: true) : null;
        var dW = context.Needs(1) ? Tensor<float>.Allocate(w.Shape, clear: true) : null;
        var columns = new float[rows * pixels];
        var dColumns = new float[rows * pixels];
        ReadOnlySpan<float> xs = x.Span, ws = w.Span, g = dy.Span;
        for (var n = 0; n < batch; n++)
        {
            for (var group = 0; group < _group; group++)
            {
                var dyBlock = g.Slice((n * filters + group * mg) * pixels, mg * pixels);
                var wBlock = ws.Slice(group * mg * rows, mg * rows);
                if (dW is not null)
                {
                    Unroll(xs.Slice((n * channels + group * cg) * height * width, cg * height * width), columns);
                    Sgemm.Multiply(mg, rows, pixels, dyBlock, pixels, false, columns, pixels, true,
                        dW.Span.Slice(group * mg * rows, mg * rows), rows, 1f, 1f, maxThreads: context.Threads);
                }
                if (dx is not null)
                {
                    Sgemm.Multiply(rows, pixels, mg, wBlock, rows, true, dyBlock, pixels, false, dColumns, pixels, maxThreads: context.Threads);
                    Fold(dColumns, dx.Span.Slice((n * channels + group * cg) * height * width, cg * height * width));
                }
            }
        }
        result[0] = dx;
        result[1] = dW;
        if (context.Needs(2) && context.Inputs[2] is Tensor<float> bias)
        {
            var db = new float[filters];
            for (var n = 0; n < batch; n++)
                for (var f = 0; f < filters; f++)
                    db[f] += System.Numerics.Tensors.TensorPrimitives.Sum(g.Slice((n * filters + f) * pixels, pixels));
            result[2] = Tensor<float>.FromArray(db, bias.CopyShape());
        }
        return result;

        // columns[(c, i, j), (oy, ox)] = x[c, oy·sh − padTop + i·dh, ox·sw − padLeft + j·dw] (0 outside).
        void Unroll(ReadOnlySpan<float> image, Span<float> cols)
        {
            for (var c = 0; c < cg; c++)
                for (var i = 0; i < kh; i++)
                    for (var j = 0; j < kw; j++)
                    {
                        var row = cols.Slice(((c * kh + i) * kw + j) * pixels, pixels);
                        for (var oy = 0; oy < outH; oy++)
                        {
                            var iy = oy * sh - padTop + i * dh;
                            for (var ox = 0; ox < outW; ox++)
                            {
                                var ix = ox * sw - padLeft + j * dw;
                                row[oy * outW + ox] = iy >= 0 && iy < height && ix >= 0 && ix < width ? image[(c * height + iy) * width + ix] : 0f;
                            }
                        }
                    }
        }

        void Fold(ReadOnlySpan<float> cols, Span<float> image)
        {
            for (var c = 0; c < cg; c++)
                for (var i = 0; i < kh; i++)
                    for (var j = 0; j < kw; j++)
                    {
                        var row = cols.Slice(((c * kh + i) * kw + j) * pixels, pixels);
                        for (var oy = 0; oy < outH; oy++)
                        {
                            var iy = oy * sh - padTop + i * dh;
                            if (iy < 0 || iy >= height) continue;
                            for (var ox = 0; ox < outW; ox++)
                            {
                                var ix = ox * sw - padLeft + j * dw;
                                if (ix >= 0 && ix < width) image[(c * height + iy) * width + ix] += row[oy * outW + ox];
                            }
                        }
                    }
        }
    }

    private (int Top, int Left) LeadingPads(int height, int width, int kh, int kw, int sh, int sw, int dh, int dw)
    {
        switch (_autoPad)
        {
            case "SAME_UPPER":
            case "SAME_LOWER":
                int Total(int size, int k, int s, int d) => Math.Max(0, ((size + s - 1) / s - 1) * s + (k - 1) * d + 1 - size);
                int th = Total(height, kh, sh, dh), tw = Total(width, kw, sw, dw);
                return _autoPad == "SAME_UPPER" ? (th / 2, tw / 2) : ((th + 1) / 2, (tw + 1) / 2);
            case "VALID":
                return (0, 0);
            default:
                return ((int)(_pads?[0] ?? 0), (int)(_pads?[1] ?? 0));
        }
    }
}
