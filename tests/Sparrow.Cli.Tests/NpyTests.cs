using System.Text;
using Sparrow.Cli.Execution;
using Sparrow.Tensors;

namespace Sparrow.Cli.Tests;

public class NpyTests
{
    /// <summary>A file laid out by hand as the .npy format specifies (magic, version, header length, header, data).</summary>
    private static byte[] HandMade(string header, byte[] data, byte major = 1)
    {
        var h = Encoding.ASCII.GetBytes(header);
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0 };
        if (major == 1) bytes.AddRange(BitConverter.GetBytes((ushort)h.Length));
        else bytes.AddRange(BitConverter.GetBytes((uint)h.Length));
        bytes.AddRange(h);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    [Fact]
    public void Reads_a_hand_made_float32_matrix()
    {
        var data = new[] { 1f, 2f, 3f, -4f, 5.5f, 6f }.SelectMany(BitConverter.GetBytes).ToArray();
        var t = Npy.Parse(HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n", data));
        Assert.Equal(new[] { 2, 3 }, t.Shape.ToArray());
        Assert.Equal(new[] { 1f, 2f, 3f, -4f, 5.5f, 6f }, ((Tensor<float>)t).ToArray());
    }

    [Fact]
    public void Reads_int64_vectors_bools_scalars_and_version_2()
    {
        var ints = Npy.Parse(HandMade("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }\n", new[] { 7L, -1L, 30521L }.SelectMany(BitConverter.GetBytes).ToArray(), major: 2));
        Assert.Equal(new[] { 7L, -1L, 30521L }, ((Tensor<long>)ints).ToArray());
        var flags = Npy.Parse(HandMade("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }\n", new byte[] { 1, 0 }));
        Assert.Equal(new[] { true, false }, ((Tensor<bool>)flags).ToArray());
        var scalar = Npy.Parse(HandMade("{'descr': '<i4', 'fortran_order': False, 'shape': (), }\n", BitConverter.GetBytes(42)));
        Assert.Equal(0, scalar.Rank);
        Assert.Equal(42, ((Tensor<int>)scalar).Span[0]);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n", "Fortran")]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", ">f4")]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", "<c8")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", "needs 8 bytes")]
    [InlineData("{'descr': '<f4', 'fortran_order': False }\n", "shape")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", "shape")]
    public void Rejects_what_it_cannot_read_with_a_reason(string header, string reason)
    {
        var e = Assert.Throws<FormatException>(() => Npy.Parse(HandMade(header, BitConverter.GetBytes(1f))));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Rejects_files_that_are_not_npy() =>
        Assert.Throws<FormatException>(() => Npy.Parse(Encoding.ASCII.GetBytes("just some text, not numpy")));

    [Fact]
    public void Write_then_read_round_trips()
    {
        using var dir = new TempDirectory();
        var path = dir.File("x.npy");
        var original = Tensor<long>.FromArray(Enumerable.Range(0, 24).Select(i => (long)i * 3 - 5).ToArray(), 2, 3, 4);
        Npy.Write(path, original);
        var bytes = File.ReadAllBytes(path);
        // The data starts on a 64-byte boundary, as NumPy writes it.
        Assert.Equal(0, (bytes.Length - 24 * 8) % 64);
        var back = (Tensor<long>)Npy.Read(path);
        Assert.Equal(original.Shape.ToArray(), back.Shape.ToArray());
        Assert.Equal(original.ToArray(), back.ToArray());
    }

    [Fact]
    public void Read_names_the_file_when_it_is_bad()
    {
        using var dir = new TempDirectory();
        var path = dir.File("bad.npy");
        File.WriteAllText(path, "nope");
        var e = Assert.Throws<UsageException>(() => Npy.Read(path));
        Assert.Contains(path, e.Message);
    }
}
