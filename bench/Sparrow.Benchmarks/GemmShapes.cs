using Sparrow.Tensors.Kernels;

namespace Sparrow.Benchmarks;

/// <summary>The products all-MiniLM-L6-v2 runs at batch 8 x sequence 128 (hidden 384, FFN 1536, 12 heads of 64).</summary>
public static class GemmShapes
{
    public sealed record Shape(string Name, int Batch, int M, int N, int K, bool Prepacked, FusedActivation Activation = FusedActivation.None)
    {
        public double Flops => 2.0 * Batch * M * N * K;

        public override string ToString() => Name;
    }

    public static readonly Shape[] MiniLm =
    [
        new("linear 1024x384x384 (QKV, out)", 1, 1024, 384, 384, true),
        new("linear 1024x384->1536 (FFN up)", 1, 1024, 1536, 384, true),
        new("linear 1024x1536->384 (FFN down)", 1, 1024, 384, 1536, true),
        new("linear 1024x384->1536 +bias +GELU", 1, 1024, 1536, 384, true, FusedActivation.Gelu),
        new("gemm 1024x384x384 (B packed per call)", 1, 1024, 384, 384, false),
        new("attention QK^T 96 x 128x64x128", 96, 128, 128, 64, false),
        new("attention PV 96 x 128x128x64", 96, 128, 64, 128, false),
        new("linear 128x384x384 (batch 1)", 1, 128, 384, 384, true),
    ];
}
