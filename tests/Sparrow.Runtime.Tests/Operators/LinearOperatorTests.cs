using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using static Sparrow.Runtime.Tests.Operators.GemmOperatorTestModels;

namespace Sparrow.Runtime.Tests.Operators;

public class LinearOperatorTests
{
    private static double Erf(double x)
    {
        // Maclaurin series; converges to double precision for the |x| < 4 these tests use.
        double term = x, sum = x;
        for (var n = 1; n < 120; n++)
        {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    [Theory]
    [InlineData("", true, true)]
    [InlineData("Relu", true, true)]
    [InlineData("Gelu", true, true)]
    [InlineData("Gelu", false, true)]
    [InlineData("", true, false)]
    [InlineData("Relu", false, false)]
    public void computes_activation_of_x_w_plus_b(string activation, bool bias, bool constantW)
    {
        const int k = 37, n = 45;
        var random = new Random(activation.Length * 10 + (bias ? 1 : 0) + (constantW ? 2 : 0));
        var x = Random(random, 2, 3, k);
        var w = Random(random, k, n);
        var b = bias ? Random(random, n) : null;
        var expected = new double[6 * n];
        for (var i = 0; i < 6; i++)
        for (var j = 0; j < n; j++)
        {
            double sum = b is null ? 0 : b.Span[j];
            for (var p = 0; p < k; p++) sum += x.Span[i * k + p] * (double)w.Span[p * n + j];
            expected[i * n + j] = activation switch
            {
                "Relu" => Math.Max(0, sum),
                "Gelu" => 0.5 * sum * (1 + Erf(sum / Math.Sqrt(2))),
                _ => sum,
            };
        }
        var inputs = new List<(string, Tensor?)> { ("x", x), ("w", constantW ? null : w) };
        if (b is not null) inputs.Add(("b", null));
        var constants = new Dictionary<string, Tensor>();
        if (constantW) constants["w"] = w;
        if (b is not null) constants["b"] = b;
        using var y = RunNode("Linear", inputs.ToArray(), constants, [NodeAttribute.String("activation", activation)],
            domain: OperatorContext.SparrowDomain, threads: 2);
        AssertClose(expected, y, [2, 3, n], $"Linear {activation} bias={bias}");
    }

    [Fact]
    public void unknown_activation_is_not_supported()
    {
        var random = new Random(1);
        var ex = Assert.ThrowsAny<Exception>(() => RunNode("Linear", [("x", Random(random, 2, 3)), ("w", null)],
            new() { ["w"] = Random(random, 3, 4) }, [NodeAttribute.String("activation", "Tanh")], domain: OperatorContext.SparrowDomain));
        Assert.Contains("activation 'Tanh' is not supported", ex.Message);
    }
}
