using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using System.Text;
using Sparrow.Tensors.Sparse;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Sparsity;

/// <summary>
/// What a measured kernel choice depends on besides the weight: the CPU, its cores, the widest vectors the JIT
/// uses, the .NET version, and the kernels themselves (a rebuilt Sparrow.Tensors or a changed table measures anew).
/// </summary>
internal static class MachineSignature
{
    public static string Current { get; } = Build();

    /// <summary>Changes whenever the kernel table or the assembly holding the kernels changes.</summary>
    public static string KernelTableVersion { get; } = ComputeTableVersion();

    public static string CpuModel => CpuInfo.ModelName;

    public static int WidestVector =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    private static string Build() =>
        $"{CpuModel}; {Environment.ProcessorCount} cores; Vector{WidestVector}; {RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}";

    private static string ComputeTableVersion()
    {
        var text = new StringBuilder();
        text.Append(typeof(SparseKernelTable).Assembly.ManifestModule.ModuleVersionId.ToString("N"));
        foreach (var entry in SparseKernelTable.All) text.Append('|').Append(entry.Name);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return Convert.ToHexString(hash, 0, 8).ToLowerInvariant();
    }
}
