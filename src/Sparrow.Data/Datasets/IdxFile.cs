using System.IO.Compression;

namespace Sparrow.Data.Datasets;

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST (big-endian header: two zero bytes, the element
/// type, the rank, then one 32-bit size per dimension; the data follows). Files ending in .gz are
/// decompressed on the fly. Only unsigned bytes (type 0x08), the type of every MNIST file, are read.
/// </summary>
public static class IdxFile
{
    private const byte UnsignedByte = 0x08;

    /// <summary>The shape and the bytes of an IDX file of unsigned bytes.</summary>
    public static (int[] Shape, byte[] Data) Read(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            return Read(stream, path);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"'{path}' ends before its data does: the IDX file is truncated.");
        }
    }

    /// <summary>Reads an IDX stream; <paramref name="name"/> names it in errors.</summary>
    public static (int[] Shape, byte[] Data) Read(Stream stream, string name = "stream")
    {
        Span<byte> header = stackalloc byte[4];
        stream.ReadExactly(header);
        if (header[0] != 0 || header[1] != 0) throw new InvalidDataException($"'{name}' is not an IDX file (it does not start with two zero bytes).");
        if (header[2] != UnsignedByte) throw new InvalidDataException($"'{name}' holds IDX element type 0x{header[2]:X2}; only unsigned bytes (0x08) are supported.");
        var rank = header[3];
        if (rank is 0 or > 4) throw new InvalidDataException($"'{name}' has rank {rank}; IDX files of rank 1 to 4 are supported.");
        var shape = new int[rank];
        long length = 1;
        Span<byte> size = stackalloc byte[4];
        for (var d = 0; d < rank; d++)
        {
            stream.ReadExactly(size);
            var value = (size[0] << 24) | (size[1] << 16) | (size[2] << 8) | size[3];
            if (value < 0) throw new InvalidDataException($"'{name}' has a negative size in dimension {d}.");
            shape[d] = value;
            length *= value;
            if (length > Array.MaxLength) throw new InvalidDataException($"'{name}' declares more data ({length} bytes) than one array can hold.");
        }
        var data = new byte[length];
        stream.ReadExactly(data);
        return (shape, data);
    }

    /// <summary>Images of an IDX file as floats scaled to [0, 1], and their shape ([count, rows, columns]).</summary>
    public static (int[] Shape, float[] Pixels) ReadImages(string path)
    {
        var (shape, data) = Read(path);
        if (shape.Length != 3) throw new InvalidDataException($"'{path}' has shape [{string.Join(",", shape)}]; images are [count, rows, columns].");
        var pixels = new float[data.Length];
        for (var i = 0; i < data.Length; i++) pixels[i] = data[i] / 255f;
        return (shape, pixels);
    }

    /// <summary>Labels of an IDX file ([count]).</summary>
    public static int[] ReadLabels(string path)
    {
        var (shape, data) = Read(path);
        if (shape.Length != 1) throw new InvalidDataException($"'{path}' has shape [{string.Join(",", shape)}]; labels are [count].");
        return data.Select(b => (int)b).ToArray();
    }
}
