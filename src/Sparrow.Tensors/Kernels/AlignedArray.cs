using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sparrow.Tensors.Kernels;

/// <summary>
/// A pinned array whose first element starts on a 64-byte boundary, for weights that kernels read with 64-byte vector
/// loads: a managed array starts 8 bytes past a boundary on the large object heap, so every such load split two cache
/// lines. Pinned, so a pointer to it stays valid as long as this object lives.
/// </summary>
internal sealed unsafe class AlignedArray<T> where T : unmanaged
{
    private readonly T[] _storage;
    private readonly int _offset;

    public AlignedArray(long length)
    {
        var pad = 64 / sizeof(T);
        if (length < 0 || length > Array.MaxLength - pad) throw new ArgumentOutOfRangeException(nameof(length), $"Cannot hold {length} elements in one array.");
        _storage = GC.AllocateArray<T>((int)length + pad, pinned: true);
        var address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        _offset = (int)((64 - (address & 63)) & 63) / sizeof(T);
        Length = (int)length;
    }

    public int Length { get; }

    public ref T this[long index] =>
        ref (ulong)index < (ulong)Length ? ref _storage[_offset + (int)index] : ref ThrowOutOfRange(index);

    private ref T ThrowOutOfRange(long index) =>
        throw new ArgumentOutOfRangeException(nameof(index), $"Index {index} is outside the {Length} elements.");

    /// <summary>The first element; valid while this object lives.</summary>
    public T* Pointer => (T*)Unsafe.AsPointer(ref _storage[_offset]);
}
