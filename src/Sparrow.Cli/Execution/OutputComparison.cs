using Sparrow.Tensors;

namespace Sparrow.Cli.Execution;

/// <summary>How one output of Sparrow compares with the reference's.</summary>
internal sealed record OutputDiff(string Name, string Shape, double MaxAbsolute, double MaxRelative, long Mismatches, bool Passed, string? Problem);

/// <summary>Elementwise comparison: an element passes when |actual - expected| &lt;= atol + rtol * |expected|.</summary>
internal static class OutputComparison
{
    public static OutputDiff Compare(string name, Tensor? actual, Tensor expected, double absoluteTolerance, double relativeTolerance)
    {
        var shape = TensorShape.Format(expected.Shape);
        if (actual is null) return new OutputDiff(name, shape, double.NaN, double.NaN, expected.Length, false, "Sparrow did not produce this output");
        if (!actual.Shape.SequenceEqual(expected.Shape))
            return new OutputDiff(name, shape, double.NaN, double.NaN, expected.Length, false, $"shape {TensorShape.Format(actual.Shape)} differs from ONNX Runtime's {shape}");
        if (actual.ElementType != expected.ElementType)
            return new OutputDiff(name, shape, double.NaN, double.NaN, expected.Length, false, $"type {DataTypes.Name(actual.ElementType)} differs from ONNX Runtime's {DataTypes.Name(expected.ElementType)}");
        var a = ToDoubles(actual);
        var b = ToDoubles(expected);
        double maxAbs = 0, maxRel = 0;
        long mismatches = 0;
        for (var i = 0; i < a.Length; i++)
        {
            double x = a[i], y = b[i];
            if (double.IsNaN(x) || double.IsNaN(y))
            {
                if (double.IsNaN(x) != double.IsNaN(y))
                {
                    mismatches++;
                    maxAbs = maxRel = double.PositiveInfinity;
                }
                continue;
            }
            if (x == y) continue;
            var diff = Math.Abs(x - y);
            maxAbs = Math.Max(maxAbs, diff);
            maxRel = Math.Max(maxRel, y == 0 ? double.PositiveInfinity : diff / Math.Abs(y));
            if (!(diff <= absoluteTolerance + relativeTolerance * Math.Abs(y))) mismatches++;
        }
        return new OutputDiff(name, shape, maxAbs, maxRel, mismatches, mismatches == 0, null);
    }

    public static double[] ToDoubles(Tensor t) => t switch
    {
        Tensor<float> f => Array.ConvertAll(f.ToArray(), v => (double)v),
        Tensor<double> d => d.ToArray(),
        Tensor<long> l => Array.ConvertAll(l.ToArray(), v => (double)v),
        Tensor<int> i => Array.ConvertAll(i.ToArray(), v => (double)v),
        Tensor<bool> b => Array.ConvertAll(b.ToArray(), v => v ? 1.0 : 0.0),
        Tensor<byte> u => Array.ConvertAll(u.ToArray(), v => (double)v),
        Tensor<sbyte> s => Array.ConvertAll(s.ToArray(), v => (double)v),
        Tensor<short> s => Array.ConvertAll(s.ToArray(), v => (double)v),
        Tensor<ushort> s => Array.ConvertAll(s.ToArray(), v => (double)v),
        Tensor<uint> s => Array.ConvertAll(s.ToArray(), v => (double)v),
        Tensor<ulong> s => Array.ConvertAll(s.ToArray(), v => (double)v),
        Tensor<Half> h => Array.ConvertAll(h.ToArray(), v => (double)v),
        _ => throw new NotSupportedException($"Cannot compare {DataTypes.Name(t.ElementType)} outputs."),
    };
}
