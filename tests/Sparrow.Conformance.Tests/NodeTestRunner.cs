using Sparrow.Graph.Onnx;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Conformance.Tests;

public enum CaseOutcome
{
    Passed,
    Failed,
    Unsupported,
}

/// <summary>Runs one ONNX node test case through an <see cref="InferenceSession"/> and compares every output.</summary>
public static class NodeTestRunner
{
    /// <summary>The ONNX backend runner's default tolerances.</summary>
    public const double RelativeTolerance = 1e-3;
    public const double AbsoluteTolerance = 1e-7;

    /// <returns>The outcome, and for failures and unsupported cases a message.</returns>
    public static (CaseOutcome Outcome, string Message) Run(string caseName)
    {
        var dir = Path.Combine(NodeTestCases.Root!, caseName);
        try
        {
            var model = OnnxImporter.Load(Path.Combine(dir, "model.onnx"));
            // Operator semantics include NaN and infinity (IsNaN, IsInf, Max of -inf...): the safety checks stay off here.
            using var session = new InferenceSession(model, new SessionOptions { IntraOpThreads = 1, CheckWeights = false, CheckInputs = false });
            foreach (var dataSet in Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal))
            {
                var inputs = new Dictionary<string, Tensor>();
                var required = model.Graph.RequiredInputs.ToList();
                for (var i = 0; i < required.Count; i++)
                {
                    var file = Path.Combine(dataSet, $"input_{i}.pb");
                    if (File.Exists(file)) inputs[required[i].Name] = OnnxImporter.LoadTensor(file);
                }
                var results = session.Run(inputs);
                try
                {
                    for (var o = 0; o < model.Graph.Outputs.Count; o++)
                    {
                        var name = model.Graph.Outputs[o].Name;
                        using var expected = OnnxImporter.LoadTensor(Path.Combine(dataSet, $"output_{o}.pb"));
                        var problem = Compare(expected, results[name]);
                        if (problem is not null) return (CaseOutcome.Failed, $"{Path.GetFileName(dataSet)}, output '{name}': {problem}");
                    }
                }
                finally
                {
                    foreach (var t in results.Values) t.Dispose();
                }
            }
            return (CaseOutcome.Passed, "");
        }
        catch (Exception e) when (UnsupportedCases.IsNotSupported(e))
        {
            return (CaseOutcome.Unsupported, e.Message);
        }
        catch (Exception e)
        {
            return (CaseOutcome.Failed, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Null when equal within tolerance, else what differs.</summary>
    public static string? Compare(Tensor expected, Tensor actual)
    {
        if (expected.ElementType != actual.ElementType)
            return $"type {DataTypes.Name(actual.ElementType)}, expected {DataTypes.Name(expected.ElementType)}";
        if (!expected.Shape.SequenceEqual(actual.Shape))
            return $"shape {TensorShape.Format(actual.Shape)}, expected {TensorShape.Format(expected.Shape)}";
        switch (expected)
        {
            case Tensor<float> e: return CompareFloats(e.Span, ((Tensor<float>)actual).Span, v => v);
            case Tensor<double> e: return CompareFloats(e.Span, ((Tensor<double>)actual).Span, v => v);
            case Tensor<Half> e: return CompareFloats(e.Span, ((Tensor<Half>)actual).Span, v => (double)v, relative: 1e-3, absolute: 1e-3);
            default:
                var a = expected.AsBytes();
                var b = actual.AsBytes();
                if (a.SequenceEqual(b)) return null;
                var size = DataTypes.SizeOf(expected.ElementType);
                for (var i = 0; i < a.Length; i++)
                    if (a[i] != b[i]) return $"element {i / size} differs";
                return "contents differ";
        }
    }

    private static string? CompareFloats<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, Func<T, double> toDouble,
        double relative = RelativeTolerance, double absolute = AbsoluteTolerance)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            var e = toDouble(expected[i]);
            var a = toDouble(actual[i]);
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (e == a) continue;
            if (!(Math.Abs(a - e) <= absolute + relative * Math.Abs(e)))
                return $"element {i}: {a}, expected {e}";
        }
        return null;
    }
}
