using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;

namespace Sparrow.Cli.Tests;

/// <summary>
/// What README's install instructions do, as a user would: pack the tool, <c>dotnet tool install</c> it from
/// the pack folder, run the installed <c>sparrow</c>. Offline: the install sees only the pack folder (its own
/// NuGet.config) and its own package folder, so it cannot use a stale Sparrow.Cli from the user's cache.
/// Slow (it packs and extracts a package of a few hundred MB), so it has its own trait to filter on.
/// </summary>
[Collection(ChildProcesses.Name)]
[Trait("Category", "Slow")]
public class ToolInstallTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(10);

    [Fact]
    public void PackedTool_Installs_AndItsSparrowRuns()
    {
        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("sparrow-tool-install-");
        try
        {
            var packFolder = Path.Combine(work.FullName, "pack");
            var toolFolder = Path.Combine(work.FullName, "tools");
            var config = Path.Combine(work.FullName, "NuGet.config");
            File.WriteAllText(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="sparrow-pack" value="{packFolder}" />
                  </packageSources>
                </configuration>
                """);
            var environment = new Dictionary<string, string>
            {
                ["NUGET_PACKAGES"] = Path.Combine(work.FullName, "packages"),
                ["SPARROW_CACHE_DIR"] = Path.Combine(work.FullName, "cache"),
                ["DOTNET_ROOT"] = DotnetRoot(),
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["DOTNET_NOLOGO"] = "1",
            };

            // The test project references Sparrow.Cli, so it is built in this configuration: pack that build.
            var pack = Run(Dotnet(), ["pack", Path.Combine(root, "src", "Sparrow.Cli", "Sparrow.Cli.csproj"), "-c", Configuration(),
                "--no-build", "-o", packFolder], root, environment);
            Assert.True(pack.ExitCode == 0, pack.ToString());
            var package = Assert.Single(Directory.GetFiles(packFolder, "Sparrow.Cli.*.nupkg"));
            using (var zip = ZipFile.OpenRead(package))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
                Assert.Contains("README.md", entries);
                Assert.Contains("LICENSE", entries);
                // The libraries' XML documentation travels with them.
                foreach (var library in new[] { "Tensors", "Graph", "Runtime", "Pruning", "Data" })
                    Assert.Contains($"tools/net10.0/any/Sparrow.{library}.xml", entries);
            }

            var install = Run(Dotnet(), ["tool", "install", "Sparrow.Cli", "--tool-path", toolFolder, "--add-source", packFolder,
                "--configfile", config, "--version", Version(package)], work.FullName, environment);
            Assert.True(install.ExitCode == 0, install.ToString());

            var sparrow = Path.Combine(toolFolder, OperatingSystem.IsWindows() ? "sparrow.exe" : "sparrow");
            var help = Run(sparrow, ["--help"], work.FullName, environment);
            Assert.True(help.ExitCode == 0, help.ToString());
            foreach (var command in new[] { "inspect", "verify", "prune", "eval", "bench" }) Assert.Contains(command, help.Output);

            var inspect = Run(sparrow, ["inspect"], work.FullName, environment);
            Assert.True(inspect.ExitCode == 0, inspect.ToString());
            Assert.Contains("Total parameters: 22,713,216 (22.7M)", inspect.Output);
            Assert.Contains("last_hidden_state", inspect.Output);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string Version(string package)
    {
        var name = Path.GetFileNameWithoutExtension(package);
        return name["Sparrow.Cli.".Length..];
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Sparrow.slnx"))) return folder.FullName;
        }
        throw new InvalidOperationException($"No Sparrow.slnx above {AppContext.BaseDirectory}.");
    }

    private static string Configuration() =>
        typeof(ToolInstallTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>The dotnet that runs the tests (MSBuild and dotnet test set DOTNET_HOST_PATH), else the one on the PATH.</summary>
    private static string Dotnet() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>Where the running runtime lives (…/shared/Microsoft.NETCore.App/VERSION), so the tool's launcher finds it.</summary>
    private static string DotnetRoot() =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));

    private sealed record ProcessResult(string Command, int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"{Command}: exit {ExitCode}\n--- output ---\n{Output}\n--- error ---\n{Error}";
    }

    private static ProcessResult Run(string file, string[] arguments, string folder, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        // The test host's MSBuild variables would steer the child builds; they start clean.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH" }) start.Environment.Remove(name);

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} ran over {Limit.TotalMinutes} minutes.");
        }
        return new ProcessResult($"{file} {string.Join(' ', arguments)}", process.ExitCode, output.Result, error.Result);
    }
}
