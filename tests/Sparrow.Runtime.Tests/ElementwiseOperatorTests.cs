using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

/// <summary>Numerics and type rules of the element-wise operators, run through a session.</summary>
public sealed class ElementwiseOperatorTests
{
    [Fact]
    public void Integer_division_truncates_toward_zero()
    {
        using var a = Tensor<int>.FromArray([7, -7, 7, -7, 0, int.MinValue + 1], 6);
        using var b = Tensor<int>.FromArray([2, 2, -2, -2, 5, 2], 6);
        using var q = SingleNodeModel.Run("Div", a, b);
        Assert.Equal(new[] { 3, -3, -3, 3, 0, (int.MinValue + 1) / 2 }, q.As<int>().ToArray());

        // The same through the scalar-divisor and scalar-dividend run layouts, over every vector tail length.
        for (var n = 1; n < 70; n++)
        {
            var values = Enumerable.Range(0, n).Select(i => (long)(i * 37 % 101) - 50).ToArray();
            using var x = Tensor<long>.FromArray(values, n);
            using var three = Tensor<long>.Scalar(-3);
            using var byThree = SingleNodeModel.Run("Div", x, three);
            Assert.Equal(values.Select(v => v / -3).ToArray(), byThree.As<long>().ToArray());
            var nonZero = values.Select(v => v == 0 ? 1 : v).ToArray();
            using var divisors = Tensor<long>.FromArray(nonZero, n);
            using var hundred = Tensor<long>.Scalar(100);
            using var into = SingleNodeModel.Run("Div", hundred, divisors);
            Assert.Equal(nonZero.Select(v => 100 / v).ToArray(), into.As<long>().ToArray());
        }
    }

    [Fact]
    public void Integer_division_by_zero_is_an_error_naming_the_node()
    {
        using var a = Tensor<int>.FromArray([1, 2, 3, 4], 4);
        using var b = Tensor<int>.FromArray([1, 0, 1, 1], 4);
        var e = Assert.Throws<InferenceException>(() => SingleNodeModel.Run("Div", a, b));
        Assert.Contains("node0", e.Message);
        Assert.Contains("division by zero", e.Message);
    }

    [Fact]
    public void Integer_division_by_zero_on_a_worker_thread_reports_the_kernel_error()
    {
        var length = 1 << 18;
        using var a = Tensor<int>.FromArray(Enumerable.Repeat(6, length).ToArray(), length);
        var divisors = Enumerable.Repeat(3, length).ToArray();
        divisors[^5] = 0;
        using var b = Tensor<int>.FromArray(divisors, length);
        var model = SingleNodeModel.Build("Div", [("a", a), ("b", b)]);
        using var session = new InferenceSession(model, new SessionOptions { IntraOpThreads = 2 });
        var e = Assert.Throws<InferenceException>(() => session.Run(new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b }));
        Assert.Contains("division by zero", e.Message);
        Assert.DoesNotContain("One or more errors", e.Message);
    }

    [Fact]
    public void Float_division_by_zero_gives_infinity()
    {
        using var a = Tensor<float>.FromArray([1, -1, 0], 3);
        using var b = Tensor<float>.Scalar(0);
        using var q = SingleNodeModel.Run("Div", a, b);
        var r = q.As<float>().ToArray();
        Assert.Equal(float.PositiveInfinity, r[0]);
        Assert.Equal(float.NegativeInfinity, r[1]);
        Assert.True(float.IsNaN(r[2]));
    }

    [Fact]
    public void Small_integer_arithmetic_wraps()
    {
        using var a = Tensor<byte>.FromArray([250, 3], 2);
        using var b = Tensor<byte>.FromArray([10, 5], 2);
        using var sum = SingleNodeModel.Run("Add", a, b);
        using var difference = SingleNodeModel.Run("Sub", a, b);
        using var product = SingleNodeModel.Run("Mul", a, b);
        Assert.Equal(new byte[] { 4, 8 }, sum.As<byte>().ToArray());
        Assert.Equal(new byte[] { 240, 254 }, difference.As<byte>().ToArray());
        Assert.Equal(new byte[] { 196, 15 }, product.As<byte>().ToArray());
    }

    [Fact]
    public void Integer_pow_is_exact()
    {
        using var x = Tensor<long>.FromArray([2, 3, -2, 7, 1, -1, -1, 5], 8);
        using var y = Tensor<int>.FromArray([10, 3, 3, 0, -4, -3, -2, -1], 8);
        using var p = SingleNodeModel.Run("Pow", [("x", (Tensor)x), ("y", y)], opset: 15);
        Assert.Equal(new long[] { 1024, 27, -8, 1, 1, -1, 1, 0 }, p.As<long>().ToArray());
        // 3^39 needs all 63 bits; a detour through double would round it.
        using var big = Tensor<long>.Scalar(3);
        using var e = Tensor<long>.Scalar(39);
        using var p2 = SingleNodeModel.Run("Pow", big, e);
        Assert.Equal(4052555153018976267L, p2.As<long>().Span[0]);
    }

    [Fact]
    public void Integer_base_with_float_exponent_truncates()
    {
        using var x = Tensor<int>.FromArray([4, 8, 10], 3);
        using var y = Tensor<float>.FromArray([0.5f, 1f / 3, 1.5f], 3);
        using var p = SingleNodeModel.Run("Pow", [("x", (Tensor)x), ("y", y)], opset: 15);
        Assert.Equal(new[] { 2, 2, 31 }, p.As<int>().ToArray());
    }

    [Fact]
    public void Float_pow_matches_the_C_library_and_squares_exactly()
    {
        var random = new Random(11);
        var values = Enumerable.Range(0, 257).Select(_ => (float)(random.NextDouble() * 8)).ToArray();
        var exponents = Enumerable.Range(0, 257).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        using var x = Tensor<float>.FromArray(values, 257);
        using var y = Tensor<float>.FromArray(exponents, 257);
        using var p = SingleNodeModel.Run("Pow", x, y);
        Assert.Equal(values.Zip(exponents, MathF.Pow).ToArray(), p.As<float>().ToArray());

        using var two = Tensor<float>.FromArray([2f], 1);
        using var squared = SingleNodeModel.Run("Pow", x, two);
        Assert.Equal(values.Select(v => v * v).ToArray(), squared.As<float>().ToArray());
        Assert.Equal(new[] { 257 }, squared.Shape.ToArray());

        using var intTwo = Tensor<long>.Scalar(2);
        using var squaredByInt = SingleNodeModel.Run("Pow", [("x", (Tensor)x), ("y", intTwo)], opset: 15);
        Assert.Equal(values.Select(v => v * v).ToArray(), squaredByInt.As<float>().ToArray());
    }

    [Fact]
    public void Pow_with_a_rank_raising_scalar_exponent_keeps_the_broadcast_shape()
    {
        using var x = Tensor<float>.FromArray([1, 2, 3], 3);
        using var two = Tensor<float>.FromArray([2f], 1, 1);
        using var p = SingleNodeModel.Run("Pow", x, two);
        Assert.Equal(new[] { 1, 3 }, p.Shape.ToArray());
        Assert.Equal(new float[] { 1, 4, 9 }, p.As<float>().ToArray());
    }

    public static TheoryData<string, Func<double, double>, double, double> Transcendentals => new()
    {
        { "Exp", Math.Exp, -80, 80 },
        { "Tanh", Math.Tanh, -12, 12 },
        { "Sigmoid", v => 1 / (1 + Math.Exp(-v)), -40, 40 },
        { "Sqrt", Math.Sqrt, 0, 1e6 },
    };

    [Theory]
    [MemberData(nameof(Transcendentals))]
    public void Float_functions_match_double_precision_to_a_millionth(string opType, Func<double, double> reference, double low, double high)
    {
        var random = new Random(opType.Length);
        // Every length to 80 reaches every vector tail; one long tensor runs on two threads.
        foreach (var length in Enumerable.Range(0, 80).Append(50_000))
        {
            var values = Enumerable.Range(0, length).Select(_ => (float)(low + random.NextDouble() * (high - low))).ToArray();
            using var x = Tensor<float>.FromArray(values, length);
            var model = SingleNodeModel.Build(opType, [("x", x)]);
            using var session = new InferenceSession(model, new SessionOptions { IntraOpThreads = 2 });
            using var y = session.Run(new Dictionary<string, Tensor> { ["x"] = x })["out0"];
            var actual = y.As<float>().Span;
            for (var i = 0; i < length; i++)
            {
                var expected = reference(values[i]);
                Assert.True(Math.Abs(actual[i] - expected) <= 1e-6 * Math.Abs(expected) + 1e-30,
                    $"{opType}({values[i]:R}) = {actual[i]:R}, expected {expected:R}");
            }
        }
    }

    [Fact]
    public void Relu_keeps_nan_and_works_on_integers()
    {
        using var x = Tensor<float>.FromArray([-1, 0, 2, float.NaN, float.NegativeInfinity], 5);
        using var y = SingleNodeModel.Run("Relu", x);
        var r = y.As<float>().ToArray();
        Assert.Equal(new float[] { 0, 0, 2 }, r[..3]);
        Assert.True(float.IsNaN(r[3]));
        Assert.Equal(0f, r[4]);
        using var xi = Tensor<int>.FromArray([-5, 5], 2);
        using var yi = SingleNodeModel.Run("Relu", [("x", (Tensor)xi)], opset: 14);
        Assert.Equal(new[] { 0, 5 }, yi.As<int>().ToArray());
    }

    [Fact]
    public void Unary_float_ops_reject_integers_as_not_supported()
    {
        using var x = Tensor<long>.FromArray([1, 2], 2);
        var e = Assert.Throws<InferenceException>(() => SingleNodeModel.Run("Sqrt", x));
        Assert.Contains("not supported", e.Message);
        Assert.Contains("int64", e.Message);
    }

    [Fact]
    public void Equal_broadcasts_and_nan_is_unequal()
    {
        using var a = Tensor<float>.FromArray([1, float.NaN, 3, 4, 5, 6], 2, 3);
        using var b = Tensor<float>.FromArray([1, float.NaN, 6], 3);
        using var eq = SingleNodeModel.Run("Equal", a, b);
        Assert.Equal(DataType.Bool, eq.ElementType);
        Assert.Equal(new[] { true, false, false, false, false, true }, eq.As<bool>().ToArray());
        using var p = Tensor<bool>.FromArray([true, false], 2, 1);
        using var q = Tensor<bool>.FromArray([true, false], 2);
        using var eqBool = SingleNodeModel.Run("Equal", p, q);
        Assert.Equal(new[] { true, false, false, true }, eqBool.As<bool>().ToArray());
    }

    [Fact]
    public void Where_broadcasts_all_three_inputs()
    {
        using var condition = Tensor<bool>.FromArray([true, false, true], 3);
        using var x = Tensor<long>.FromArray([1, 2], 2, 1);
        using var y = Tensor<long>.Scalar(-1);
        using var w = SingleNodeModel.Run("Where", condition, x, y);
        Assert.Equal(new[] { 2, 3 }, w.Shape.ToArray());
        Assert.Equal(new long[] { 1, -1, 1, 2, -1, 2 }, w.As<long>().ToArray());
    }

    [Fact]
    public void Where_requires_a_bool_condition()
    {
        using var condition = Tensor<int>.FromArray([1, 0], 2);
        using var x = Tensor<float>.FromArray([1, 2], 2);
        var e = Assert.Throws<InferenceException>(() => SingleNodeModel.Run("Where", condition, x, x));
        Assert.Contains("condition", e.Message);
    }

    [Fact]
    public void Expand_broadcasts_both_ways()
    {
        using var x = Tensor<float>.FromArray([1, 2, 3], 3, 1);
        using var shape = Tensor<long>.FromArray([2, 1, 4], 3);
        using var y = SingleNodeModel.Run("Expand", x, shape);
        Assert.Equal(new[] { 2, 3, 4 }, y.Shape.ToArray());
        Assert.Equal(Enumerable.Repeat(new float[] { 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3 }, 2).SelectMany(v => v).ToArray(), y.As<float>().ToArray());
        // A shape smaller than the input keeps the input's dimensions.
        using var ones = Tensor<long>.FromArray([1, 1], 2);
        using var same = SingleNodeModel.Run("Expand", x, ones);
        Assert.Equal(new[] { 3, 1 }, same.Shape.ToArray());
    }

    [Fact]
    public void Expand_to_an_incompatible_shape_names_both_shapes()
    {
        using var x = Tensor<float>.FromArray([1, 2, 3], 3);
        using var shape = Tensor<long>.FromArray([2, 4], 2);
        var e = Assert.Throws<InferenceException>(() => SingleNodeModel.Run("Expand", x, shape));
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[2,4]", e.Message);
    }

    [Fact]
    public void Cast_truncates_floats_and_maps_nonzero_to_true()
    {
        using var x = Tensor<float>.FromArray([-1.7f, 1.7f, 0f, -0f, float.NaN, 255.9f], 6);
        using var ints = SingleNodeModel.Run("Cast", [("x", (Tensor)x)], attributes: NodeAttribute.Int("to", (long)DataType.Int32));
        Assert.Equal(new[] { -1, 1, 0, 0 }, ints.As<int>().ToArray()[..4]);
        using var bools = SingleNodeModel.Run("Cast", [("x", (Tensor)x)], attributes: NodeAttribute.Int("to", (long)DataType.Bool));
        Assert.Equal(new[] { true, true, false, false, true, true }, bools.As<bool>().ToArray());
        using var back = SingleNodeModel.Run("Cast", [("b", (Tensor)bools)], attributes: NodeAttribute.Int("to", (long)DataType.Float32));
        Assert.Equal(new float[] { 1, 1, 0, 0, 1, 1 }, back.As<float>().ToArray());
        using var bytes = SingleNodeModel.Run("Cast", [("b", (Tensor)bools)], attributes: NodeAttribute.Int("to", (long)DataType.UInt8));
        Assert.Equal(new byte[] { 1, 1, 0, 0, 1, 1 }, bytes.As<byte>().ToArray());
    }

    [Fact]
    public void Cast_to_narrower_integers_wraps_and_to_float16_rounds_to_nearest_even()
    {
        using var x = Tensor<long>.FromArray([(1L << 32) + 5, -1, 300], 3);
        using var narrow = SingleNodeModel.Run("Cast", [("x", (Tensor)x)], attributes: NodeAttribute.Int("to", (long)DataType.Int32));
        Assert.Equal(new[] { 5, -1, 300 }, narrow.As<int>().ToArray());
        using var u8 = SingleNodeModel.Run("Cast", [("x", (Tensor)x)], attributes: NodeAttribute.Int("to", (long)DataType.UInt8));
        Assert.Equal(new byte[] { 5, 255, 44 }, u8.As<byte>().ToArray());

        // 1 + 2^-11 lies halfway between two float16 values; the even one is 1.
        using var d = Tensor<double>.FromArray([1 + Math.Pow(2, -11), 65520, 1e-8], 3);
        using var h = SingleNodeModel.Run("Cast", [("d", (Tensor)d)], attributes: NodeAttribute.Int("to", (long)DataType.Float16));
        Assert.Equal(new[] { (Half)1, Half.PositiveInfinity, (Half)0 }, h.As<Half>().ToArray());
    }

    [Fact]
    public void Cast_to_the_same_type_returns_an_independent_view()
    {
        using var x = Tensor<float>.FromArray([1, 2], 2);
        using var y = SingleNodeModel.Run("Cast", [("x", (Tensor)x)], attributes: NodeAttribute.Int("to", (long)DataType.Float32));
        Assert.NotSame(x, y);
        Assert.Equal(new float[] { 1, 2 }, y.As<float>().ToArray());
    }

    [Theory]
    [InlineData(8L, "string")]
    [InlineData(16L, "bfloat16")]
    [InlineData(17L, "float8e4m3fn")]
    [InlineData(22L, "int4")]
    public void Cast_to_types_tensors_cannot_hold_is_not_supported(long to, string name)
    {
        using var x = Tensor<float>.FromArray([1], 1);
        var e = Assert.Throws<ModelException>(() => SingleNodeModel.Run("Cast", [("x", (Tensor)x)], attributes: NodeAttribute.Int("to", to)));
        Assert.Contains("not supported", e.Message);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Binary_ops_reject_mixed_types()
    {
        using var a = Tensor<float>.FromArray([1], 1);
        using var b = Tensor<double>.FromArray([1], 1);
        var e = Assert.Throws<InferenceException>(() => SingleNodeModel.Run("Add", a, b));
        Assert.Contains("float32", e.Message);
        Assert.Contains("float64", e.Message);
    }

    [Fact]
    public void Legacy_broadcast_attribute_is_not_supported()
    {
        using var a = Tensor<float>.FromArray([1], 1);
        var e = Assert.Throws<ModelException>(() => SingleNodeModel.Run("Add", [("a", (Tensor)a), ("b", a)], opset: 6, NodeAttribute.Int("broadcast", 1)));
        Assert.Contains("not supported", e.Message);
    }
}
