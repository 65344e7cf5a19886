using System.Runtime.Intrinsics;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// A weight W [K, N] (the ONNX MatMul layout: row p holds input p's contribution to every output) laid out once for
/// <see cref="SparseInputGemv"/>'s one-row product: the outputs cut into panels of two vectors (32 floats with
/// AVX-512), each panel stored as K contiguous rows of that width, 64-byte aligned, the last panel padded with zeros.
/// A kept input then costs one short aligned read per panel, and the reads of a panel run forward through memory
/// like the dense GEMM's packed panels, so skipping inputs saves reads without breaking the stream.
/// Immutable, so one instance serves concurrent runs.
/// </summary>
public sealed unsafe class SparseInputWeight
{
    private readonly AlignedArray<float> _storage;

    private SparseInputWeight(int inputs, int outputs, int vectorWidth, AlignedArray<float> storage)
    {
        Inputs = inputs;
        Outputs = outputs;
        VectorWidth = vectorWidth;
        _storage = storage;
    }

    /// <summary>K: the inputs (rows of the [K, N] weight).</summary>
    public int Inputs { get; }

    /// <summary>N: the outputs (columns of the [K, N] weight).</summary>
    public int Outputs { get; }

    /// <summary>Bytes held by the packed copy.</summary>
    public long ByteCount => _storage.ByteCount;

    /// <summary>Floats per vector the layout was made for (16, 8, 4 or 1); the kernel runs at this width.</summary>
    internal int VectorWidth { get; }

    /// <summary>Outputs per panel: two vectors (narrow panels let the kernel keep many kept inputs' reads in flight).</summary>
    internal int PanelWidth => 2 * VectorWidth;

    internal int Panels => (Outputs + PanelWidth - 1) / PanelWidth;

    /// <summary>The first panel; valid as long as this object lives (the storage is pinned).</summary>
    internal float* Data => _storage.Pointer;

    /// <summary>Packs W given as <paramref name="inputs"/> × <paramref name="outputs"/> row-major (leading dimension = outputs).</summary>
    public static SparseInputWeight Pack(ReadOnlySpan<float> weight, int inputs, int outputs) => Pack(weight, inputs, outputs, vectorWidth: 0);

    /// <summary>Packs a 2-D tensor [K, N].</summary>
    public static SparseInputWeight Pack(Tensor<float> weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2) throw new ArgumentException($"A sparse-input weight needs a 2-D tensor [K, N], got shape {TensorShape.Format(weight.Shape)}.", nameof(weight));
        return Pack(weight.Span, weight.Shape[0], weight.Shape[1]);
    }

    /// <summary>As the public overload, for a given vector width (16, 8, 4 or 1; 0 = the widest the CPU runs) so tests reach every path.</summary>
    internal static SparseInputWeight Pack(ReadOnlySpan<float> weight, int inputs, int outputs, int vectorWidth)
    {
        if (inputs < 0 || outputs < 0) throw new ArgumentOutOfRangeException(nameof(inputs), "The weight's dimensions must not be negative.");
        if (weight.Length < (long)inputs * outputs)
            throw new ArgumentException($"The weight has {weight.Length} elements; [{inputs}, {outputs}] needs {(long)inputs * outputs}.", nameof(weight));
        if (vectorWidth == 0) vectorWidth = BestVectorWidth;
        else if (vectorWidth is not (1 or 4 or 8 or 16)) throw new ArgumentOutOfRangeException(nameof(vectorWidth), "The vector width must be 1, 4, 8 or 16.");
        var panelWidth = 2 * vectorWidth;
        var panels = (outputs + panelWidth - 1) / panelWidth;
        var length = (long)panels * inputs * panelWidth;
        if (length + 16 > Array.MaxLength) throw new ArgumentException($"A {inputs} x {outputs} weight is too large to pack.", nameof(weight));
        // Zeroed: the padding columns of the last panel must add nothing (and never NaN).
        var storage = new AlignedArray<float>(length);
        var packed = new SparseInputWeight(inputs, outputs, vectorWidth, storage);
        var data = new Span<float>(packed.Data, (int)length);
        for (var panel = 0; panel < panels; panel++)
        {
            var j0 = panel * panelWidth;
            var width = Math.Min(panelWidth, outputs - j0);
            for (var p = 0; p < inputs; p++)
                weight.Slice(p * outputs + j0, width).CopyTo(data.Slice((panel * inputs + p) * panelWidth, width));
        }
        return packed;
    }

    private static int BestVectorWidth =>
        Vector512.IsHardwareAccelerated ? 16
        : Vector256.IsHardwareAccelerated ? 8
        : Vector128.IsHardwareAccelerated ? 4
        : 1;
}
