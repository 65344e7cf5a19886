using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// The blocked GEMM over an already packed B: splits C into (row block x column block) tasks for the threads;
/// each task sweeps B micro-panels (held in L1) over its rows of A (read in place, held in L2) with the
/// register-blocked micro-kernel. Not packing A saves a copy per product, which matters most for the
/// small products of attention. The epilogue (beta, bias, activation) is applied as
/// tiles are stored: beta and bias with the first depth block, the activation with the last.
/// </summary>
internal static unsafe class GemmDriver
{
    public struct Arguments
    {
        public int M, N, K;
        public float* A;
        public int Lda;
        public bool TransA;
        public float Alpha;
        public float* PackedB;
        public float* C;
        public int Ldc;
        public float Beta;
        public float* ColumnBias;
        public float* RowBias;
        public FusedActivation Activation;
    }

    public static void Run(GemmConfig config, Arguments args, int threads)
    {
        if (args.M == 0 || args.N == 0) return;
        if (args.K == 0)
        {
            RunEmptyDepth(args);
            return;
        }
        var mr = config.MR;
        var nr = config.NR;
        var rowPanels = (args.M + mr - 1) / mr;
        var columnPanels = (args.N + nr - 1) / nr;
        var mcPanels = config.MC / mr;
        // Small problems are not worth waking a second thread for.
        if ((long)args.M * args.N * args.K < 64 * 64 * 64) threads = 1;
        var rowBlocks = (rowPanels + mcPanels - 1) / mcPanels;
        var columnBlocks = 1;
        if (threads > 1 && rowBlocks < 4 * threads)
        {
            // A few tasks per thread, handed out dynamically, so that a thread the OS delays holds back little.
            // With few rows the columns are split first: every row block reads all of its columns' B panels, so
            // splitting 32 rows into four blocks read a 4096 x 4096 weight four times from memory and two threads
            // ran slower than one. A is not packed, so a column split costs no packing; each column block reads its
            // rows of A again (at most 4 * threads * MC rows take this path).
            var target = 4 * threads;
            columnBlocks = Math.Min(columnPanels, (target + rowBlocks - 1) / rowBlocks);
            rowBlocks = Math.Max(rowBlocks, Math.Min(rowPanels, (target + columnBlocks - 1) / columnBlocks));
        }
        var tasks = rowBlocks * columnBlocks;
        if (tasks == 1)
        {
            RunBlock(config, args, 0, rowPanels, 0, columnPanels);
            return;
        }
        GemmParallel.For(tasks, threads, task =>
        {
            var rb = task / columnBlocks;
            var cb = task % columnBlocks;
            RunBlock(config, args,
                (int)((long)rb * rowPanels / rowBlocks), (int)((long)(rb + 1) * rowPanels / rowBlocks),
                (int)((long)cb * columnPanels / columnBlocks), (int)((long)(cb + 1) * columnPanels / columnBlocks));
        });
    }

    /// <summary>Row micro-panels [p0, p1) by column micro-panels [q0, q1), all depth blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlock(GemmConfig config, in Arguments args, int p0, int p1, int q0, int q1)
    {
        var mr = config.MR;
        var nr = config.NR;
        var kb = config.DepthBlock(args.K);
        var paddedN = config.PaddedColumns(args.N);
        // A is read in place: element (i, k) at A[i * rowStride + k * depthStride].
        nint rowStride = args.TransA ? 1 : args.Lda;
        nint depthStride = args.TransA ? args.Lda : 1;
        var rowEnd = Math.Min(p1 * mr, args.M);
        for (var k0 = 0; k0 < args.K; k0 += kb)
        {
            var kc = Math.Min(kb, args.K - k0);
            var first = k0 == 0;
            var last = k0 + kc == args.K;
            var epilogue = new Epilogue
            {
                Alpha = args.Alpha,
                CScale = first ? args.Beta : 1f,
                Activation = last ? args.Activation : FusedActivation.None,
            };
            // Rows in chunks of MC, so that the rows of A a chunk reads stay in L2 while every B panel passes.
            for (var i0 = p0 * mr; i0 < rowEnd; i0 += config.MC)
            {
                var rows = Math.Min(config.MC, rowEnd - i0);
                for (var q = q0; q < q1; q++)
                {
                    var j0 = q * nr;
                    var width = Math.Min(nr, args.N - j0);
                    var panelB = args.PackedB + (nint)k0 * paddedN + (nint)q * kc * nr;
                    epilogue.ColumnBias = first && args.ColumnBias != null ? args.ColumnBias + j0 : null;
                    for (var r = 0; r < rows; r += mr)
                    {
                        var i = i0 + r;
                        var height = Math.Min(mr, rows - r);
                        epilogue.RowBias = first && args.RowBias != null ? args.RowBias + i : null;
                        var a = args.A + i * rowStride + k0 * depthStride;
                        var c = args.C + (nint)i * args.Ldc + j0;
                        if (width == nr) RunTile(config, height, kc, a, rowStride, depthStride, panelB, c, args.Ldc, epilogue);
                        else RunPartialTile(config, height, width, kc, a, rowStride, depthStride, panelB, c, args.Ldc, epilogue);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunTile(GemmConfig config, int rows, int kc, float* a, nint rowStride, nint depthStride, float* b, float* c, int ldc, in Epilogue epilogue)
    {
        switch (config.Isa)
        {
            case GemmIsa.Vector512:
                GemmMicroKernels.Tile<Vector512Ops, Vector512<float>>(rows, kc, a, rowStride, depthStride, b, c, ldc, epilogue);
                break;
            case GemmIsa.Vector256:
                GemmMicroKernels.Tile<Vector256Ops, Vector256<float>>(rows, kc, a, rowStride, depthStride, b, c, ldc, epilogue);
                break;
            case GemmIsa.Vector128:
                GemmMicroKernels.Tile<Vector128Ops, Vector128<float>>(rows, kc, a, rowStride, depthStride, b, c, ldc, epilogue);
                break;
            default:
                GemmMicroKernels.Tile<ScalarOps, float>(rows, kc, a, rowStride, depthStride, b, c, ldc, epilogue);
                break;
        }
    }

    /// <summary>A tile cut by the right edge of C: computed in a full-width scratch tile, then copied out.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunPartialTile(GemmConfig config, int rows, int width, int kc, float* a, nint rowStride, nint depthStride, float* b,
        float* c, int ldc, Epilogue epilogue)
    {
        var nr = config.NR;
        var tile = stackalloc float[config.MR * nr + 16];
        tile = (float*)(((nint)tile + 63) & ~(nint)63);
        var bias = stackalloc float[nr];
        var bytes = (nuint)width * sizeof(float);
        if (epilogue.CScale != 0f)
        {
            new Span<float>(tile, rows * nr).Clear();
            for (var r = 0; r < rows; r++) Buffer.MemoryCopy(c + (nint)r * ldc, tile + r * nr, bytes, bytes);
        }
        if (epilogue.ColumnBias != null)
        {
            new Span<float>(bias, nr).Clear();
            Buffer.MemoryCopy(epilogue.ColumnBias, bias, bytes, bytes);
            epilogue.ColumnBias = bias;
        }
        RunTile(config, rows, kc, a, rowStride, depthStride, b, tile, nr, epilogue);
        for (var r = 0; r < rows; r++) Buffer.MemoryCopy(tile + r * nr, c + (nint)r * ldc, bytes, bytes);
    }

    /// <summary>K = 0: the product is zero, so C = beta * C + bias, then the activation.</summary>
    private static void RunEmptyDepth(in Arguments args)
    {
        for (var i = 0; i < args.M; i++)
        {
            var row = new Span<float>(args.C + (nint)i * args.Ldc, args.N);
            for (var j = 0; j < args.N; j++)
            {
                var v = args.Beta == 0f ? 0f : args.Beta * row[j];
                if (args.ColumnBias != null) v += args.ColumnBias[j];
                if (args.RowBias != null) v += args.RowBias[i];
                row[j] = v;
            }
            Activations.Apply(row, args.Activation);
        }
    }
}
