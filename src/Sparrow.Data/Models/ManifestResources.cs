using System.Buffers.Binary;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Sparrow.Data.Models;

/// <summary>
/// Finds a managed resource inside a .NET assembly image held in memory, by reading its metadata only:
/// the assembly is never loaded, so none of its code or dependencies are needed.
/// </summary>
internal static unsafe class ManifestResources
{
    /// <summary>The resource's bytes, pointing into <paramref name="image"/> (no copy).</summary>
    public static (IntPtr Pointer, int Length) Find(byte* image, int imageLength, string name)
    {
        using var pe = new PEReader(image, imageLength);
        if (!pe.HasMetadata) throw new InvalidDataException("The embedded model assembly has no .NET metadata.");
        var metadata = pe.GetMetadataReader();
        var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
        var block = pe.GetSectionData(directory.RelativeVirtualAddress);
        var available = Math.Min(block.Length, directory.Size);
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            // A nil implementation means the resource lives in this file (not in another module or assembly).
            if (!resource.Implementation.IsNil || !metadata.StringComparer.Equals(resource.Name, name)) continue;
            // Each resource is a 4-byte little-endian length followed by the bytes.
            if (resource.Offset < 0 || resource.Offset + 4 > available)
                throw new InvalidDataException($"Resource '{name}' lies outside the resources directory.");
            var start = block.Pointer + resource.Offset;
            var length = BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(start, 4));
            if (length < 0 || resource.Offset + 4L + length > available)
                throw new InvalidDataException($"Resource '{name}' declares {length} bytes, more than its directory holds.");
            return ((IntPtr)(start + 4), length);
        }
        throw new InvalidDataException($"The embedded model assembly has no resource '{name}'.");
    }
}
