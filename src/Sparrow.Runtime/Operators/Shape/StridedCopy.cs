using System.Runtime.InteropServices;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Shape;

/// <summary>Copies a strided view of a tensor (any element type) into a contiguous tensor: the core of Slice.</summary>
internal static class StridedCopy
{
    /// <param name="baseOffset">Source element where output element 0 comes from.</param>
    /// <param name="sourceSteps">Per output axis, how many source elements one step moves (may be negative).</param>
    public static void Copy(Tensor source, int baseOffset, int[] sourceSteps, Tensor destination)
    {
        var src = source.AsBytes();
        var dst = ShapeInputs.WritableBytes(destination);
        var shape = destination.Shape;
        switch (DataTypes.SizeOf(source.ElementType))
        {
            case 1: Copy(src, baseOffset, sourceSteps, shape, dst); break;
            case 2: Copy(MemoryMarshal.Cast<byte, ushort>(src), baseOffset, sourceSteps, shape, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case 4: Copy(MemoryMarshal.Cast<byte, uint>(src), baseOffset, sourceSteps, shape, MemoryMarshal.Cast<byte, uint>(dst)); break;
            case 8: Copy(MemoryMarshal.Cast<byte, ulong>(src), baseOffset, sourceSteps, shape, MemoryMarshal.Cast<byte, ulong>(dst)); break;
            default: throw new NotSupportedException($"Copying {DataTypes.Name(source.ElementType)} is not supported.");
        }
    }

    public static void Copy<T>(ReadOnlySpan<T> source, int baseOffset, int[] steps, ReadOnlySpan<int> shape, Span<T> destination) where T : unmanaged
    {
        if (destination.Length == 0) return;
        var rank = shape.Length;
        if (rank == 0)
        {
            destination[0] = source[baseOffset];
            return;
        }
        var row = shape[rank - 1];
        var step = steps[rank - 1];
        var index = new int[rank];
        var offset = baseOffset;
        for (var dstOffset = 0; dstOffset < destination.Length; dstOffset += row)
        {
            if (step == 1)
            {
                source.Slice(offset, row).CopyTo(destination.Slice(dstOffset, row));
            }
            else
            {
                var d = destination.Slice(dstOffset, row);
                var s = offset;
                for (var i = 0; i < d.Length; i++, s += step) d[i] = source[s];
            }
            for (var a = rank - 2; a >= 0; a--)
            {
                offset += steps[a];
                if (++index[a] < shape[a]) break;
                offset -= steps[a] * shape[a];
                index[a] = 0;
            }
        }
    }
}
