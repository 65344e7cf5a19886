using System.Runtime.CompilerServices;

namespace Sparrow.TestSupport;

/// <summary>Sessions made by these tests measure kernels into a temporary cache, never the user's ~/.cache/sparrow.</summary>
internal static class KernelCacheFolder
{
    [ModuleInitializer]
    internal static void UseTemporaryFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"sparrow-tests-kernel-cache-{Environment.ProcessId}");
        Environment.SetEnvironmentVariable("SPARROW_CACHE_DIR", folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        };
    }
}
