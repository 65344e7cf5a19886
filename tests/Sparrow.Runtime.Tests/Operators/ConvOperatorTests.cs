using Sparrow.Graph;
using Sparrow.Tensors;
using static Sparrow.Runtime.Tests.Operators.GemmOperatorTestModels;

namespace Sparrow.Runtime.Tests.Operators;

public class ConvOperatorTests
{
    public sealed record Case(string Name, int[] X, int[] W, int Group = 1, int[]? Strides = null, int[]? Dilations = null,
        int[]? Pads = null, string AutoPad = "NOTSET", bool Bias = true)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Case> Cases() => new()
    {
        new("2d 3x3 pad 1", [1, 3, 8, 8], [4, 3, 3, 3], Pads: [1, 1, 1, 1]),
        new("2d no pad no bias", [2, 2, 7, 6], [3, 2, 3, 2], Bias: false),
        new("2d strides 2", [1, 3, 9, 10], [5, 3, 3, 3], Strides: [2, 2], Pads: [1, 1, 1, 1]),
        new("2d strides 3x1 asymmetric pads", [1, 2, 11, 7], [2, 2, 2, 3], Strides: [3, 1], Pads: [0, 2, 1, 0]),
        new("2d dilations 2", [1, 2, 9, 9], [3, 2, 3, 3], Dilations: [2, 2], Pads: [2, 2, 2, 2]),
        new("2d group 2", [2, 4, 6, 6], [6, 2, 3, 3], Group: 2, Pads: [1, 1, 1, 1]),
        new("2d depthwise", [1, 5, 6, 5], [5, 1, 3, 3], Group: 5, Strides: [2, 1], Pads: [1, 1, 1, 1]),
        new("2d same upper even kernel", [1, 2, 7, 8], [3, 2, 4, 2], Strides: [2, 3], AutoPad: "SAME_UPPER"),
        new("2d same lower even kernel", [1, 2, 7, 8], [3, 2, 4, 2], Strides: [2, 3], AutoPad: "SAME_LOWER"),
        new("2d valid", [1, 2, 7, 8], [3, 2, 3, 3], Strides: [2, 2], AutoPad: "VALID"),
        new("2d pointwise", [2, 6, 5, 4], [7, 6, 1, 1]),
        new("2d pointwise strided", [1, 6, 5, 4], [7, 6, 1, 1], Strides: [2, 2]),
        new("2d kernel larger than padded input", [1, 1, 2, 2], [1, 1, 3, 3], Pads: [0, 0, 0, 0]),
        new("2d many channels", [3, 16, 12, 12], [32, 16, 3, 3], Pads: [1, 1, 1, 1]),
        new("2d group 2, 4 filters per group (GEMM path)", [2, 4, 9, 9], [8, 2, 3, 3], Group: 2, Pads: [1, 0, 0, 1]),
        new("2d pixel blocks cut mid-row", [2, 8, 40, 37], [6, 8, 3, 3], Pads: [1, 1, 1, 1]),
        new("2d pixel blocks, strides and dilations", [1, 9, 61, 50], [5, 9, 3, 2], Strides: [2, 1], Dilations: [1, 3], Pads: [0, 2, 1, 0]),
        new("2d depthwise pixel blocks", [1, 3, 100, 90], [3, 1, 5, 5], Group: 3, Pads: [2, 2, 2, 2]),
        new("2d depthwise dilated, strided, asymmetric pads", [2, 4, 23, 41], [4, 1, 3, 4], Group: 4, Strides: [1, 2], Dilations: [2, 3], Pads: [3, 0, 1, 5]),
        new("2d depthwise wide rows, no bias", [1, 2, 5, 70], [2, 1, 2, 3], Group: 2, Pads: [0, 1, 1, 1], Bias: false),
        new("2d pointwise large", [1, 20, 50, 40], [7, 20, 1, 1]),
        new("1d", [2, 3, 17], [4, 3, 5], Strides: [2], Dilations: [2], Pads: [3, 1]),
        new("1d same upper", [1, 2, 10], [2, 2, 4], AutoPad: "SAME_UPPER"),
        new("3d", [1, 2, 5, 6, 4], [3, 2, 3, 2, 3], Strides: [1, 2, 1], Pads: [1, 0, 1, 1, 1, 0]),
        new("3d group", [1, 4, 4, 4, 4], [4, 2, 2, 2, 2], Group: 2, Dilations: [1, 2, 1]),
        new("3d pixel blocks", [1, 4, 9, 20, 21], [6, 4, 3, 3, 3], Strides: [1, 1, 2], Pads: [1, 1, 1, 1, 1, 1]),
    };

    /// <summary>Direct convolution: each output sums its taps, skipping the ones that land in the padding.</summary>
    private static double[] Reference(Tensor<float> x, Tensor<float> w, Tensor<float>? b, Case c, int[] outSpatial, int[] padsBegin)
    {
        var rank = x.Rank - 2;
        int batch = x.Shape[0], channels = x.Shape[1], filters = w.Shape[0];
        var cg = channels / c.Group;
        var mg = filters / c.Group;
        var inSpatial = x.Shape[2..].ToArray();
        var kernel = w.Shape[2..].ToArray();
        var strides = c.Strides ?? Enumerable.Repeat(1, rank).ToArray();
        var dilations = c.Dilations ?? Enumerable.Repeat(1, rank).ToArray();
        var outCount = outSpatial.Aggregate(1, (p, q) => p * q);
        var inCount = inSpatial.Aggregate(1, (p, q) => p * q);
        var kCount = kernel.Aggregate(1, (p, q) => p * q);
        var y = new double[batch * filters * outCount];
        var xv = x.Span;
        var wv = w.Span;
        var o = new int[rank];
        var t = new int[rank];
        for (var n = 0; n < batch; n++)
        for (var f = 0; f < filters; f++)
        for (var op = 0; op < outCount; op++)
        {
            Unravel(op, outSpatial, o);
            double sum = b is null ? 0 : b.Span[f];
            var g = f / mg;
            for (var ci = 0; ci < cg; ci++)
            for (var kp = 0; kp < kCount; kp++)
            {
                Unravel(kp, kernel, t);
                var offset = 0;
                var inside = true;
                for (var d = 0; d < rank; d++)
                {
                    var index = o[d] * strides[d] + t[d] * dilations[d] - padsBegin[d];
                    if (index < 0 || index >= inSpatial[d]) inside = false;
                    offset = offset * inSpatial[d] + index;
                }
                if (!inside) continue;
                sum += xv[(n * channels + g * cg + ci) * inCount + offset] * (double)wv[(f * cg + ci) * kCount + kp];
            }
            y[(n * filters + f) * outCount + op] = sum;
        }
        return y;
    }

    private static void Unravel(int index, int[] shape, int[] result)
    {
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            result[d] = index % shape[d];
            index /= shape[d];
        }
    }

    /// <summary>Output sizes and leading pads as the ONNX spec defines them.</summary>
    private static (int[] Output, int[] PadsBegin) Geometry(Case c, int[] input, int[] kernel)
    {
        var rank = input.Length;
        var output = new int[rank];
        var begin = new int[rank];
        for (var d = 0; d < rank; d++)
        {
            var s = c.Strides?[d] ?? 1;
            var extent = (c.Dilations?[d] ?? 1) * (kernel[d] - 1) + 1;
            if (c.AutoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                output[d] = (int)Math.Ceiling(input[d] / (double)s);
                var total = Math.Max(0, (output[d] - 1) * s + extent - input[d]);
                begin[d] = c.AutoPad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
            }
            else if (c.AutoPad == "VALID")
            {
                output[d] = (int)Math.Ceiling((input[d] - extent + 1) / (double)s);
            }
            else
            {
                var pb = c.Pads?[d] ?? 0;
                var pe = c.Pads?[d + rank] ?? 0;
                output[d] = Math.Max(0, (input[d] + pb + pe - extent) / s + 1);
                begin[d] = pb;
            }
        }
        return (output, begin);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void matches_direct_convolution(Case c)
    {
        var random = new Random(c.Name.Length * 7919 + c.X.Sum());
        var x = Random(random, c.X);
        var w = Random(random, c.W);
        var b = c.Bias ? Random(random, c.W[0]) : null;
        var (outSpatial, padsBegin) = Geometry(c, c.X[2..], c.W[2..]);
        var expected = Reference(x, w, b, c, outSpatial, padsBegin);
        var attributes = new List<NodeAttribute> { NodeAttribute.Int("group", c.Group), NodeAttribute.String("auto_pad", c.AutoPad) };
        if (c.Strides is not null) attributes.Add(NodeAttribute.Ints("strides", c.Strides.Select(v => (long)v).ToArray()));
        if (c.Dilations is not null) attributes.Add(NodeAttribute.Ints("dilations", c.Dilations.Select(v => (long)v).ToArray()));
        if (c.Pads is not null) attributes.Add(NodeAttribute.Ints("pads", c.Pads.Select(v => (long)v).ToArray()));
        attributes.Add(NodeAttribute.Ints("kernel_shape", c.W[2..].Select(v => (long)v).ToArray()));
        (string, Tensor?)[] inputs = b is null ? [("x", x), ("w", w)] : [("x", x), ("w", w), ("b", b)];
        int[] shape = [c.X[0], c.W[0], .. outSpatial];
        foreach (var threads in new[] { 1, 2 })
        {
            using var y = RunNode("Conv", inputs, attributes: attributes.ToArray(), threads: threads);
            AssertClose(expected, y, shape, $"{c.Name} threads {threads}");
        }
    }

    [Fact]
    public void weight_channels_must_match_the_group()
    {
        var random = new Random(3);
        var ex = Assert.ThrowsAny<Exception>(() =>
            RunNode("Conv", [("x", Random(random, 1, 4, 5, 5)), ("w", Random(random, 2, 4, 3, 3))], attributes: [NodeAttribute.Int("group", 2)]));
        Assert.Contains("needs 2 input channels per group", ex.Message);
    }

    [Fact]
    public void unknown_auto_pad_is_not_supported()
    {
        var random = new Random(3);
        var ex = Assert.ThrowsAny<Exception>(() =>
            RunNode("Conv", [("x", Random(random, 1, 1, 5, 5)), ("w", Random(random, 1, 1, 3, 3))], attributes: [NodeAttribute.String("auto_pad", "SAME")]));
        Assert.Contains("auto_pad 'SAME' is not supported", ex.Message);
    }
}
