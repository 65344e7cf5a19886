using System.Runtime.Intrinsics;

namespace Sparrow.Tensors.Kernels;

/// <summary>The instruction set a GEMM runs with; the best one the machine accelerates is the default.</summary>
internal enum GemmIsa
{
    Scalar,
    Vector128,
    Vector256,
    Vector512,
}

/// <summary>
/// Tile and block sizes for one instruction set. MR x NR is the register tile; a packed B micro-panel
/// (KC x NR) stays in L1 while it is reused across MC rows of A, which stay in L2.
/// </summary>
internal sealed class GemmConfig
{
    private GemmConfig(GemmIsa isa, int vectorWidth, int mr, int kc, int mc)
    {
        Isa = isa;
        MR = mr;
        NR = 2 * vectorWidth;
        KC = kc;
        MC = mc;
    }

    public GemmIsa Isa { get; }

    public int MR { get; }

    public int NR { get; }

    /// <summary>Largest depth of one packed block.</summary>
    public int KC { get; }

    /// <summary>Rows of A one sweep over the B panels covers (a multiple of MR).</summary>
    public int MC { get; }

    // 8 x 32 on AVX-512: 16 accumulators + 2 B vectors fit the 32 registers with room for the broadcast.
    // KC = 384 (a 48 KB B panel, about L1) measured a few percent faster than 256 on Zen 5, and takes
    // MiniLM's K = 384 in one pass. The narrower widths have 16 registers, so they use 4 rows (8 accumulators).
    private static readonly GemmConfig Scalar = new(GemmIsa.Scalar, 1, 4, 256, 64);
    private static readonly GemmConfig V128 = new(GemmIsa.Vector128, Vector128<float>.Count, 4, 256, 64);
    private static readonly GemmConfig V256 = new(GemmIsa.Vector256, Vector256<float>.Count, 4, 256, 128);
    private static readonly GemmConfig V512 = new(GemmIsa.Vector512, Vector512<float>.Count, 8, 384, 128);

    public static GemmConfig Best { get; } =
        Vector512.IsHardwareAccelerated ? V512
        : Vector256.IsHardwareAccelerated ? V256
        : Vector128.IsHardwareAccelerated ? V128
        : Scalar;

    public static GemmConfig For(GemmIsa isa) => isa switch
    {
        GemmIsa.Vector512 => V512,
        GemmIsa.Vector256 => V256,
        GemmIsa.Vector128 => V128,
        _ => Scalar,
    };

    /// <summary>The instruction sets this machine can run, for tests that cover every path.</summary>
    public static IEnumerable<GemmIsa> Available()
    {
        yield return GemmIsa.Scalar;
        if (Vector128.IsHardwareAccelerated) yield return GemmIsa.Vector128;
        if (Vector256.IsHardwareAccelerated) yield return GemmIsa.Vector256;
        if (Vector512.IsHardwareAccelerated) yield return GemmIsa.Vector512;
    }

    /// <summary>Depth of each packed block: K split into equal blocks of at most KC.</summary>
    public int DepthBlock(int k)
    {
        if (k <= KC) return Math.Max(k, 1);
        var blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }

    /// <summary>N rounded up to whole NR panels.</summary>
    public int PaddedColumns(int n) => (n + NR - 1) / NR * NR;
}
