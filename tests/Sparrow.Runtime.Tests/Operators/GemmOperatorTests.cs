using Sparrow.Graph;
using Sparrow.Tensors;
using static Sparrow.Runtime.Tests.Operators.GemmOperatorTestModels;

namespace Sparrow.Runtime.Tests.Operators;

public class GemmOperatorTests
{
    public static TheoryData<bool, bool, float, float, int[]?, bool> Cases()
    {
        var data = new TheoryData<bool, bool, float, float, int[]?, bool>();
        int[]?[] cShapes = [null, [], [1], [9], [1, 9], [5, 1], [5, 9], [1, 1]];
        foreach (var transA in new[] { false, true })
        foreach (var transB in new[] { false, true })
        foreach (var c in cShapes)
        foreach (var constantB in new[] { false, true })
            data.Add(transA, transB, 0.5f, c is null ? 1f : -1.5f, c, constantB);
        data.Add(false, false, 1f, 0f, [5, 9], false);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void matches_reference(bool transA, bool transB, float alpha, float beta, int[]? cShape, bool constantB)
    {
        const int m = 5, n = 9, k = 7;
        var random = new Random((transA ? 1 : 0) + (transB ? 2 : 0) + (cShape?.Length ?? 5) * 4 + (constantB ? 100 : 0));
        var a = Random(random, transA ? [k, m] : [m, k]);
        var b = Random(random, transB ? [n, k] : [k, n]);
        var c = cShape is null ? null : Random(random, cShape);
        var expected = new double[m * n];
        var av = a.Span;
        var bv = b.Span;
        for (var i = 0; i < m; i++)
        for (var j = 0; j < n; j++)
        {
            double sum = 0;
            for (var p = 0; p < k; p++)
                sum += (transA ? av[p * m + i] : av[i * k + p]) * (double)(transB ? bv[j * k + p] : bv[p * n + j]);
            var cv = 0.0;
            if (c is not null)
            {
                var rows = cShape!.Length == 2 ? cShape[0] : 1;
                var cols = cShape.Length >= 1 ? cShape[^1] : 1;
                cv = c.Span[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
            }
            expected[i * n + j] = alpha * sum + beta * cv;
        }
        var attributes = new[]
        {
            NodeAttribute.Float("alpha", alpha), NodeAttribute.Float("beta", beta),
            NodeAttribute.Int("transA", transA ? 1 : 0), NodeAttribute.Int("transB", transB ? 1 : 0),
        };
        (string, Tensor?)[] inputs = c is null ? [("a", a), ("b", constantB ? null : b)] : [("a", a), ("b", constantB ? null : b), ("c", c)];
        var constants = constantB ? new Dictionary<string, Tensor> { ["b"] = b } : null;
        using var y = RunNode("Gemm", inputs, constants, attributes);
        AssertClose(expected, y, [m, n], $"Gemm transA={transA} transB={transB} C={(cShape is null ? "none" : TensorShape.Format(cShape))}");
    }

    [Fact]
    public void c_that_does_not_broadcast_is_rejected()
    {
        var random = new Random(2);
        var ex = Assert.ThrowsAny<Exception>(() => RunNode("Gemm", [("a", Random(random, 2, 3)), ("b", Random(random, 3, 4)), ("c", Random(random, 3))]));
        Assert.Contains("does not broadcast to [2,4]", ex.Message);
    }
}
