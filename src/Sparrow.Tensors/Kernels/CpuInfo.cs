using System.Runtime.InteropServices;

namespace Sparrow.Tensors.Kernels;

/// <summary>The processor's name, for reports and for keying measurements made on this machine.</summary>
public static class CpuInfo
{
    /// <summary>"AMD EPYC 9R14 96-Core Processor", from /proc/cpuinfo; elsewhere the best the OS says.</summary>
    public static string ModelName { get; } = ReadModelName();

    private static string ReadModelName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var i and > 0)
                        return line[(i + 1)..].Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No readable cpuinfo: fall back below.
        }
        return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? RuntimeInformation.ProcessArchitecture.ToString();
    }
}
