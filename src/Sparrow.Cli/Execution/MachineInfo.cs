using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Intrinsics.Arm;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Cli.Execution;

/// <summary>The CPU a measurement ran on, so that numbers can be read against it.</summary>
internal static class MachineInfo
{
    public static string CpuModel => CpuInfo.ModelName;

    public static int LogicalCores => Environment.ProcessorCount;

    public static string Runtime => $"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})";

    /// <summary>The widest vectors the JIT uses here and the instruction sets behind them.</summary>
    public static string VectorIsa
    {
        get
        {
            var width = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;
            var sets = new List<string>();
            if (Avx512F.IsSupported)
            {
                var ext = new List<string> { "F" };
                if (Avx512BW.IsSupported) ext.Add("BW");
                if (Avx512DQ.IsSupported) ext.Add("DQ");
                if (Avx512Vbmi.IsSupported) ext.Add("VBMI");
                if (Avx512Vbmi2.IsSupported) ext.Add("VBMI2");
                if (AvxVnni.IsSupported) ext.Add("VNNI");
                sets.Add("AVX-512 (" + string.Join(", ", ext) + ")");
            }
            if (Avx2.IsSupported) sets.Add("AVX2");
            if (Fma.IsSupported) sets.Add("FMA");
            if (sets.Count == 0 && Avx.IsSupported) sets.Add("AVX");
            if (sets.Count == 0 && Sse42.IsSupported) sets.Add("SSE4.2");
            if (AdvSimd.IsSupported) sets.Add("AdvSIMD (NEON)");
            var isa = sets.Count > 0 ? string.Join(", ", sets) : "none";
            return width > 0 ? $"Vector{width} accelerated; {isa}" : $"no hardware vectors; {isa}";
        }
    }
}
