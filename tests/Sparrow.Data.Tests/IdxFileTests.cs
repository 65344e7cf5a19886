using System.IO.Compression;
using Sparrow.Data.Datasets;

namespace Sparrow.Data.Tests;

public class IdxFileTests
{
    private static byte[] Idx(byte type, int[] shape, byte[] data)
    {
        var bytes = new List<byte> { 0, 0, type, (byte)shape.Length };
        foreach (var s in shape) bytes.AddRange([(byte)(s >> 24), (byte)(s >> 16), (byte)(s >> 8), (byte)s]);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    [Fact]
    public void Reads_shape_and_bytes_plain_and_gzipped()
    {
        var data = Enumerable.Range(0, 2 * 3 * 260).Select(i => (byte)(i * 7)).ToArray();
        var bytes = Idx(0x08, [2, 3, 260], data);
        var folder = Directory.CreateTempSubdirectory("sparrow-idx-");
        try
        {
            var plain = Path.Combine(folder.FullName, "images-idx3-ubyte");
            File.WriteAllBytes(plain, bytes);
            var gz = plain + ".gz";
            using (var file = File.Create(gz))
            using (var zip = new GZipStream(file, CompressionLevel.Fastest)) zip.Write(bytes);
            foreach (var path in new[] { plain, gz })
            {
                var (shape, read) = IdxFile.Read(path);
                Assert.Equal([2, 3, 260], shape);
                Assert.Equal(data, read);
            }
            var (_, pixels) = IdxFile.ReadImages(gz);
            Assert.Equal(data[5] / 255f, pixels[5]);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Bad_files_are_refused_with_a_message()
    {
        Assert.Contains("not an IDX", Assert.Throws<InvalidDataException>(() => IdxFile.Read(new MemoryStream([1, 2, 8, 1, 0, 0, 0, 1, 0]))).Message);
        Assert.Contains("0x0D", Assert.Throws<InvalidDataException>(() => IdxFile.Read(new MemoryStream(Idx(0x0D, [1], [0, 0, 0, 0])))).Message);
        Assert.Throws<EndOfStreamException>(() => IdxFile.Read(new MemoryStream(Idx(0x08, [10], [1, 2]))));
        Assert.Contains("more data", Assert.Throws<InvalidDataException>(() => IdxFile.Read(new MemoryStream(Idx(0x08, [65536, 65536], [])))).Message);
    }
}
