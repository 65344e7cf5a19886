using Sparrow.Data.Models;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;

namespace Sparrow.Cli.Tests;

public sealed class SparseKernelOptionTests
{
    private static readonly Lazy<string> PrunedMiniLm = new(() =>
    {
        var path = RunFiles.Model("minilm-90");
        var (pruned, _) = MagnitudePruner.Prune(OnnxImporter.Load(DefaultModel.OnnxBytes), 0.9);
        OnnxExporter.Save(pruned, path);
        return path;
    });

    [Fact]
    public void Inspect_shows_the_kernel_chosen_for_each_weight()
    {
        var r = CliRunner.Run("inspect", PrunedMiniLm.Value, "--seq", "8", "--threads", "2", "--sparse-kernel", "csr");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("kernel per weight (--sparse-kernel CSR, 2 thread(s))", r.Output);
        Assert.Matches(@"'Linear_\d+' \(Linear\)\s+1536 x 384\s+90\.0%\s+CSR \(16-bit indices\)\s+[\d.]+ KiB\s+1\d\.\d%\s+forced", r.Output);
        Assert.Matches(@"384 x 384\s+0\.0%\s+Dense\s+.*dense: 0\.0% zeros", r.Output);
        Assert.Contains("Kernels: 36 sparse (CSR 36), 1 dense;", r.Output);
        Assert.Contains("Weights held by a session:", r.Output);
    }

    [Fact]
    public void Inspect_auto_measures_and_says_so()
    {
        var r = CliRunner.Run("inspect", PrunedMiniLm.Value, "--seq", "8", "--threads", "2");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("kernel per weight (--sparse-kernel auto", r.Output);
        Assert.Matches(@"384 x 1536\s+90\.0%\s+\S.*(measured|cached)", r.Output);
    }

    [Fact]
    public void Verify_passes_on_the_pruned_model_with_a_forced_kernel()
    {
        var r = CliRunner.Run("verify", PrunedMiniLm.Value, "--seq", "8", "--sparse-kernel", "Bitmask");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("kernels (--sparse-kernel Bitmask): 36 sparse (Bitmask 36), 1 dense", r.Output);
        Assert.Contains("PASS", r.Output);
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("verify")]
    [InlineData("bench")]
    public void Unknown_kernel_is_a_usage_error_listing_the_names(string command)
    {
        var r = CliRunner.Run(command, CliRunner.MiniLmPath, "--sparse-kernel", "CSX");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--sparse-kernel 'CSX' is not a kernel", r.Error);
        foreach (var name in new[] { "auto", "dense", "CSR", "BSR 4x1", "NM 2:4", "Bitmask" }) Assert.Contains(name, r.Error);
    }
}
