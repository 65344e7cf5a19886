using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators.Shape;

/// <summary>
/// Permutes the axes of a dense tensor of any element type. Axes of size 1 are dropped and input axes that
/// stay neighbours are merged first, so that the attention permutations reduce to simple cases:
/// [0,2,1,3] becomes a copy of contiguous rows, [0,2,3,1] and 2-D become a batched 2-D transpose done in tiles.
/// </summary>
internal static class TransposeKernel
{
    private const int Tile = 16;

    /// <summary>The permutation with its axes validated; null perm means reversed axes.</summary>
    public static int[] ResolvePermutation(long[]? perm, int rank)
    {
        if (perm is null)
        {
            var reversed = new int[rank];
            for (var i = 0; i < rank; i++) reversed[i] = rank - 1 - i;
            return reversed;
        }
        if (perm.Length != rank)
            throw new ArgumentException($"perm {ShapeInputs.Format(perm)} has {perm.Length} axes but the input has rank {rank}.");
        var seen = new bool[rank];
        var result = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var a = perm[i];
            if (a < 0 || a >= rank || seen[a])
                throw new ArgumentException($"perm {ShapeInputs.Format(perm)} is not a permutation of the axes 0..{rank - 1}.");
            seen[a] = true;
            result[i] = (int)a;
        }
        return result;
    }

    public static int[] OutputShape(ReadOnlySpan<int> shape, int[] perm)
    {
        var output = new int[perm.Length];
        for (var i = 0; i < perm.Length; i++) output[i] = shape[perm[i]];
        return output;
    }

    /// <summary>Transposes <paramref name="source"/> into <paramref name="destination"/>, axes in the order <paramref name="perm"/>.</summary>
    public static void Transpose(Tensor source, Tensor destination, int[] perm)
    {
        var size = DataTypes.SizeOf(source.ElementType);
        var src = source.AsBytes();
        var dst = ShapeInputs.WritableBytes(destination);
        switch (size)
        {
            case 1: Transpose(src, dst, source.Shape, perm); break;
            case 2: Transpose(MemoryMarshal.Cast<byte, ushort>(src), MemoryMarshal.Cast<byte, ushort>(dst), source.Shape, perm); break;
            case 4: Transpose(MemoryMarshal.Cast<byte, uint>(src), MemoryMarshal.Cast<byte, uint>(dst), source.Shape, perm); break;
            case 8: Transpose(MemoryMarshal.Cast<byte, ulong>(src), MemoryMarshal.Cast<byte, ulong>(dst), source.Shape, perm); break;
            default: throw new NotSupportedException($"Transpose of {DataTypes.Name(source.ElementType)} is not supported.");
        }
    }

    public static void Transpose<T>(ReadOnlySpan<T> source, Span<T> destination, ReadOnlySpan<int> shape, int[] perm) where T : unmanaged
    {
        if (source.Length == 0) return;
        var (dims, p) = Coalesce(shape, perm);
        var rank = dims.Length;
        if (rank <= 1)
        {
            source.CopyTo(destination);
            return;
        }
        var inStrides = TensorShape.Strides(dims);
        var outShape = OutputShape(dims, p);
        var outStrides = TensorShape.Strides(outShape);
        // For each output axis, how far the source moves when that output index grows by one.
        var srcStep = new int[rank];
        for (var k = 0; k < rank; k++) srcStep[k] = inStrides[p[k]];

        if (p[rank - 1] == rank - 1)
        {
            CopyRows(source, destination, outShape, srcStep);
            return;
        }
        // Tiled 2-D transpose of (input axis a = p[last], input last axis) for every index of the other axes.
        var a = p[rank - 1];
        var q = Array.IndexOf(p, rank - 1);
        var rows = dims[a];
        var cols = dims[rank - 1];
        var srcRowStride = inStrides[a];
        var dstColStride = outStrides[q];
        var outer = new List<int>();
        for (var k = 0; k < rank - 1; k++) if (k != q) outer.Add(k);
        var index = new int[outer.Count];
        while (true)
        {
            int srcBase = 0, dstBase = 0;
            for (var i = 0; i < outer.Count; i++)
            {
                srcBase += index[i] * srcStep[outer[i]];
                dstBase += index[i] * outStrides[outer[i]];
            }
            Transpose2D(source[srcBase..], srcRowStride, destination[dstBase..], dstColStride, rows, cols);
            var d = outer.Count - 1;
            for (; d >= 0; d--)
            {
                if (++index[d] < outShape[outer[d]]) break;
                index[d] = 0;
            }
            if (d < 0) break;
        }
    }

    /// <summary>dst[j * dstStride + i] = src[i * srcStride + j] for i &lt; rows, j &lt; cols, in cache-sized tiles.</summary>
    private static void Transpose2D<T>(ReadOnlySpan<T> src, int srcStride, Span<T> dst, int dstStride, int rows, int cols) where T : unmanaged
    {
        if (typeof(T) == typeof(uint) && Avx.IsSupported && rows >= 8 && cols >= 8)
        {
            Transpose2DAvx(MemoryMarshal.Cast<T, float>(src), srcStride, MemoryMarshal.Cast<T, float>(dst), dstStride, rows, cols);
            return;
        }
        for (var i0 = 0; i0 < rows; i0 += Tile)
        {
            var i1 = Math.Min(i0 + Tile, rows);
            for (var j0 = 0; j0 < cols; j0 += Tile)
            {
                var j1 = Math.Min(j0 + Tile, cols);
                for (var j = j0; j < j1; j++)
                {
                    var d = dst.Slice(j * dstStride, i1);
                    var s = j + i0 * srcStride;
                    for (var i = i0; i < i1; i++, s += srcStride) d[i] = src[s];
                }
            }
        }
    }

    /// <summary>4-byte elements: the tensor kernels' register-tiled transpose (the shuffles only move bits, so any 4-byte type).</summary>
    private static unsafe void Transpose2DAvx(ReadOnlySpan<float> src, int srcStride, Span<float> dst, int dstStride, int rows, int cols)
    {
        fixed (float* s = src)
        fixed (float* d = dst)
            MatrixTranspose.Transpose(s, srcStride, d, dstStride, rows, cols);
    }

    /// <summary>The last axis stays last: copy contiguous rows, walking the other output axes.</summary>
    private static void CopyRows<T>(ReadOnlySpan<T> source, Span<T> destination, int[] outShape, int[] srcStep) where T : unmanaged
    {
        var rank = outShape.Length;
        var row = outShape[rank - 1];
        var index = new int[rank - 1];
        var srcOffset = 0;
        for (var dstOffset = 0; dstOffset < destination.Length; dstOffset += row)
        {
            source.Slice(srcOffset, row).CopyTo(destination.Slice(dstOffset, row));
            for (var d = rank - 2; d >= 0; d--)
            {
                srcOffset += srcStep[d];
                if (++index[d] < outShape[d]) break;
                srcOffset -= srcStep[d] * outShape[d];
                index[d] = 0;
            }
        }
    }

    /// <summary>Drops axes of size 1 and merges input axes that stay adjacent and in order in the output.</summary>
    internal static (int[] Shape, int[] Perm) Coalesce(ReadOnlySpan<int> shape, int[] perm)
    {
        // Input axes that survive (size > 1), renumbered.
        var keptIndex = new int[shape.Length];
        var kept = 0;
        for (var i = 0; i < shape.Length; i++) keptIndex[i] = shape[i] == 1 ? -1 : kept++;
        var p = new List<int>();
        foreach (var axis in perm) if (keptIndex[axis] >= 0) p.Add(keptIndex[axis]);
        var dims = new List<int>();
        for (var i = 0; i < shape.Length; i++) if (shape[i] != 1) dims.Add(shape[i]);

        // Merge runs: output positions k, k+1 with p[k+1] == p[k] + 1 are one input axis.
        var groups = new List<(int First, int Last)>(); // in output order, input axis ranges
        foreach (var axis in p)
        {
            if (groups.Count > 0 && groups[^1].Last + 1 == axis) groups[^1] = (groups[^1].First, axis);
            else groups.Add((axis, axis));
        }
        // Renumber groups by their position in the input.
        var byInput = groups.Select((g, k) => (g.First, k)).OrderBy(x => x.First).ToArray();
        var newAxisOfGroup = new int[groups.Count];
        var mergedShape = new int[groups.Count];
        for (var n = 0; n < byInput.Length; n++)
        {
            var g = groups[byInput[n].k];
            newAxisOfGroup[byInput[n].k] = n;
            var size = 1;
            for (var a = g.First; a <= g.Last; a++) size *= dims[a];
            mergedShape[n] = size;
        }
        return (mergedShape, newAxisOfGroup);
    }
}
