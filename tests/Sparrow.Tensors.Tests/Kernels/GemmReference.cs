using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Tests.Kernels;

/// <summary>Naive triple-loop GEMM in double precision and the checks the kernel tests share.</summary>
internal static class GemmReference
{
    /// <summary>
    /// Reference C (with leading dimension ldc) and, per element, the sum of magnitudes of everything added,
    /// which scales the tolerance: float rounding grows with that sum, not with the result.
    /// </summary>
    public static (double[] Values, double[] Magnitudes) Multiply(
        int m, int n, int k, float[] a, int lda, bool transA, float[] b, int ldb, bool transB,
        float[] c, int ldc, float alpha, float beta, float[]? columnBias, float[]? rowBias, FusedActivation activation)
    {
        var values = new double[c.Length];
        var magnitudes = new double[c.Length];
        for (var i = 0; i < m; i++)
        for (var j = 0; j < n; j++)
        {
            double sum = 0, magnitude = 0;
            for (var p = 0; p < k; p++)
            {
                double x = transA ? a[p * lda + i] : a[i * lda + p];
                double y = transB ? b[j * ldb + p] : b[p * ldb + j];
                sum += x * y;
                magnitude += Math.Abs(x * y);
            }
            sum *= alpha;
            magnitude *= Math.Abs(alpha);
            if (beta != 0)
            {
                sum += beta * (double)c[i * ldc + j];
                magnitude += Math.Abs(beta * (double)c[i * ldc + j]);
            }
            if (columnBias is not null)
            {
                sum += columnBias[j];
                magnitude += Math.Abs(columnBias[j]);
            }
            if (rowBias is not null)
            {
                sum += rowBias[i];
                magnitude += Math.Abs(rowBias[i]);
            }
            values[i * ldc + j] = Activate(sum, activation);
            magnitudes[i * ldc + j] = magnitude;
        }
        return (values, magnitudes);
    }

    public static double Activate(double x, FusedActivation activation) => activation switch
    {
        FusedActivation.Relu => Math.Max(x, 0),
        FusedActivation.Gelu => Gelu(x),
        _ => x,
    };

    /// <summary>Exact GELU through a double-precision erfc, accurate in the far negative tail too.</summary>
    public static double Gelu(double x)
    {
        var z = Math.Abs(x) / Math.Sqrt(2);
        var erfc = Erfc(z);
        return 0.5 * x * (x >= 0 ? 2 - erfc : erfc);
    }

    /// <summary>erfc(z) for z &gt;= 0: Maclaurin series of erf below 3, continued fraction above.</summary>
    public static double Erfc(double z)
    {
        if (z < 3)
        {
            double term = z, sum = z;
            for (var n = 1; n < 100; n++)
            {
                term *= -z * z / n;
                sum += term / (2 * n + 1);
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        // erfc(z) = exp(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), evaluated from the tail up.
        var fraction = z;
        for (var n = 60; n >= 1; n--) fraction = z + n / 2.0 / fraction;
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / fraction;
    }

    public static float[] Random(Random random, int length, float scale = 1f)
    {
        var data = new float[length];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return data;
    }

    /// <summary>Asserts every element of the m x n result matches; elements in the ldc gap must keep their sentinel.</summary>
    public static void AssertClose(string label, int m, int n, int ldc, float[] actual, double[] expected, double[] magnitudes, float[] before)
    {
        for (var i = 0; i < actual.Length; i++)
        {
            var row = i / ldc;
            var column = i % ldc;
            if (row >= m || column >= n)
            {
                if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(before[i]))
                    Assert.Fail($"{label}: element {i} outside the {m} x {n} result was changed to {actual[i]}.");
                continue;
            }
            var tolerance = 3e-5 * magnitudes[i] + 1e-6;
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance))
                Assert.Fail($"{label}: C[{row},{column}] = {actual[i]}, expected {expected[i]} (tolerance {tolerance:g3}).");
        }
    }
}
