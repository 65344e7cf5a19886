using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// A pinned array whose first element starts on a 64-byte boundary, for weights that kernels read with 64-byte vector
/// loads: a managed array is only 8-byte aligned (the 2:4 panel weights started 8 bytes past a boundary, so every such
/// load split two cache lines). Pinned, so a pointer to it stays valid as long as this object lives. T's size must
/// divide 64.
/// </summary>
internal sealed unsafe class AlignedArray<T> where T : unmanaged
{
    private readonly T[] _storage;
    private readonly int _offset;

    /// <param name="length">Elements.</param>
    /// <param name="zeroed">False for storage the caller overwrites whole (a large weight is not cleared twice).</param>
    public AlignedArray(long length, bool zeroed = true)
    {
        if (64 % sizeof(T) != 0) throw new NotSupportedException($"{typeof(T).Name} ({sizeof(T)} bytes) cannot be aligned to 64 bytes element by element.");
        var pad = 64 / sizeof(T);
        if (length < 0 || length > Array.MaxLength - pad) throw new ArgumentOutOfRangeException(nameof(length), $"Cannot hold {length} elements in one array.");
        _storage = zeroed ? GC.AllocateArray<T>((int)length + pad, pinned: true) : GC.AllocateUninitializedArray<T>((int)length + pad, pinned: true);
        var address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        _offset = (int)((64 - (address & 63)) & 63) / sizeof(T);
        Length = (int)length;
    }

    public int Length { get; }

    /// <summary>Bytes of the elements (the alignment padding is not counted).</summary>
    public long ByteCount => (long)Length * sizeof(T);

    public ref T this[long index] =>
        ref (ulong)index < (ulong)Length ? ref _storage[_offset + (int)index] : ref ThrowOutOfRange(index);

    [DoesNotReturn]
    private ref T ThrowOutOfRange(long index) =>
        throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside the {Length} elements.");

    /// <summary>The first element; valid while this object lives.</summary>
    public T* Pointer => (T*)Unsafe.AsPointer(ref _storage[_offset]);
}
