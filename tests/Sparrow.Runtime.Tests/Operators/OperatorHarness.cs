using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

/// <summary>Compiles one node through the registry and runs it, as the session would.</summary>
internal static class OperatorHarness
{
    public static Tensor[] Run(string opType, long opset, Tensor?[] inputs, int outputs = 1, int threads = 1, params NodeAttribute[] attributes)
    {
        var node = new Node(opType,
            inputs.Select((t, i) => t is null ? "" : $"input{i}"),
            Enumerable.Range(0, outputs).Select(i => $"output{i}"));
        foreach (var a in attributes) node.SetAttribute(a);
        var model = new Model(new ModelGraph());
        model.OpsetImports[""] = opset;
        var op = OperatorRegistry.Create(node, new OperatorContext(model, new SessionOptions()));
        return op.Run(inputs, new RunContext(threads));
    }

    public static Tensor<float> RandomFloats(Random random, params int[] shape)
    {
        var t = Tensor<float>.Allocate(shape);
        var s = t.Span;
        for (var i = 0; i < s.Length; i++) s[i] = (float)(random.NextDouble() * 8 - 4);
        return t;
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            var a = actual[i];
            if (float.IsNaN(e) && float.IsNaN(a)) continue;
            Assert.True(Math.Abs(a - e) <= tolerance * (1 + Math.Abs(e)), $"element {i}: {a}, expected {e}");
        }
    }
}
