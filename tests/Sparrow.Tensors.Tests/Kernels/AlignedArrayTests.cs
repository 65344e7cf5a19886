using Sparrow.Tensors.Kernels;

namespace Sparrow.Tensors.Tests.Kernels;

public unsafe class AlignedArrayTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(100_000)]
    public void First_element_is_on_a_64_byte_boundary(int length)
    {
        var floats = new AlignedArray<float>(length);
        var bytes = new AlignedArray<byte>(length);
        Assert.Equal(0, (long)floats.Pointer % 64);
        Assert.Equal(0, (long)bytes.Pointer % 64);
        Assert.Equal(length, floats.Length);
    }

    [Fact]
    public void Element_sizes_that_do_not_divide_64_are_refused() =>
        Assert.Throws<NotSupportedException>(() => new AlignedArray<Twelve>(4));

    /// <summary>Twelve bytes: a size that does not divide 64.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential, Size = 12)]
    private struct Twelve;

    [Fact]
    public void Indexer_and_pointer_see_the_same_elements()
    {
        var array = new AlignedArray<float>(1000);
        for (var i = 0; i < array.Length; i++) array[i] = i * 0.5f;
        for (var i = 0; i < array.Length; i++) Assert.Equal(i * 0.5f, array.Pointer[i]);
        Assert.Throws<ArgumentOutOfRangeException>(() => array[array.Length]);
        Assert.Throws<ArgumentOutOfRangeException>(() => array[-1]);
    }
}
