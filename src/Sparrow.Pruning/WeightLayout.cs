namespace Sparrow.Pruning;

/// <summary>
/// Moves a target's weight between its stored layout and [out, in] (inputs, the reduction axis, last), the layout
/// patterns, criteria and sparse kernels read: MatMul [K, N] and Gemm transB=0 are transposed; Gemm transB=1
/// [N, K] is already [out, in]; Conv [O, I, kh, kw] is read as [O, I·kh·kw].
/// </summary>
public static class WeightLayout
{
    /// <summary>(out, in) of the target.</summary>
    public static (int Rows, int Columns) OutByInShape(PruningTarget target)
    {
        var shape = target.Shape;
        if (shape.Length == 2 && target.ReductionAxis == 0) return (shape[1], shape[0]);
        var inner = 1;
        for (var i = 1; i < shape.Length; i++) inner *= shape[i];
        return (shape.Length == 0 ? 1 : shape[0], inner);
    }

    /// <summary>A copy of the stored weight (or scores in its layout) as [out, in].</summary>
    public static float[] ToOutByIn(PruningTarget target, ReadOnlySpan<float> stored)
    {
        if (!Transposed(target)) return stored.ToArray();
        int k = target.Shape[0], n = target.Shape[1];
        var result = new float[stored.Length];
        for (var r = 0; r < k; r++)
            for (var c = 0; c < n; c++)
                result[c * k + r] = stored[r * n + c];
        return result;
    }

    /// <summary>Writes an [out, in] array back into the target's stored layout.</summary>
    public static void FromOutByIn(PruningTarget target, ReadOnlySpan<float> outByIn, Span<float> stored)
    {
        if (!Transposed(target))
        {
            outByIn.CopyTo(stored);
            return;
        }
        int k = target.Shape[0], n = target.Shape[1];
        for (var r = 0; r < k; r++)
            for (var c = 0; c < n; c++)
                stored[r * n + c] = outByIn[c * k + r];
    }

    private static bool Transposed(PruningTarget target) => target.Shape.Length == 2 && target.ReductionAxis == 0;
}
