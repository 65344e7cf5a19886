using System.Diagnostics;
using System.Text.RegularExpressions;
using Sparrow.Cli.Execution.Report;
using SkiaSharp;

namespace Sparrow.Cli.Tests;

/// <summary>
/// Opens the report in headless Chromium (Debian's <c>chromium</c>, installed by scripts/install-chromium.sh when
/// missing) and checks that the page renders with every image decoded. No skipping: without a browser this fails.
/// </summary>
[Collection(ChildProcesses.Name)]
public class ReportBrowserTests
{
    private static readonly Lazy<string> Chromium = new(InstallChromium, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Marks each image's decoded width on the body once the page (images included) has loaded.</summary>
    private const string WidthProbe = """
        <script>
        window.addEventListener('load', () => {
          const widths = Array.from(document.images).map(i => i.complete ? i.naturalWidth : -1);
          document.body.setAttribute('data-image-widths', widths.join(','));
        });
        </script>
        """;

    [Fact]
    public void Report_renders_in_headless_chromium_with_all_its_images()
    {
        var chromium = Chromium.Value;
        using var folder = new TempDirectory();
        var (bench, eval, sensitivity) = ReportSamples.WriteAll(folder, energy: true);
        var html = folder.File("report.html");
        var result = ReportBuilder.Write([bench, eval, sensitivity], html, null, "Browser test");
        var expectedWidths = result.Document.Images.Select(i => ReportPlots.PngSize(i.Png).Width).ToArray();
        Assert.True(expectedWidths.Length >= 4, $"the sample report should have latency, energy and sensitivity plots, got {expectedWidths.Length}");

        // The browser's own view of the images: a copy of the page with a probe that writes their decoded widths into the DOM.
        var probe = folder.File("probe.html");
        var page = File.ReadAllText(html);
        Assert.Contains("</body>", page);
        File.WriteAllText(probe, page.Replace("</body>", WidthProbe + "\n</body>", StringComparison.Ordinal));
        var dom = RunChromium(chromium, folder, "--dump-dom", new Uri(probe).AbsoluteUri);
        Assert.Contains("<h1>Browser test</h1>", dom);
        var widths = Regex.Match(dom, "data-image-widths=\"([^\"]*)\"");
        Assert.True(widths.Success, "the probe did not run: no data-image-widths in the DOM Chromium dumped:\n" + Head(dom));
        var decoded = widths.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        // Each image decoded at the PNG's own width; a broken data URI decodes to 0.
        Assert.Equal(expectedWidths, decoded);

        // The page as a user sees it: a screenshot with the plots' colours in it, not a blank or text-only page.
        var shot = folder.File("shot.png");
        RunChromium(chromium, folder, $"--screenshot={shot}", "--window-size=1200,4000", "--hide-scrollbars", new Uri(html).AbsoluteUri);
        using var bitmap = SKBitmap.Decode(shot);
        Assert.NotNull(bitmap);
        Assert.Equal(1200, bitmap.Width);
        long inked = 0, plotBlue = 0;
        for (var y = 0; y < bitmap.Height; y += 2)
            for (var x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red < 200 || c.Green < 200 || c.Blue < 200) inked++;
                // The markers and bars of the plots (#1f77b4) and the energy bars (Category10's first colour, the same blue).
                if (Math.Abs(c.Red - 0x1f) < 24 && Math.Abs(c.Green - 0x77) < 24 && Math.Abs(c.Blue - 0xb4) < 24) plotBlue++;
            }
        var sampled = (long)(bitmap.Width / 2) * (bitmap.Height / 2);
        Assert.True(inked > sampled / 100, $"the screenshot is nearly blank: {inked} of {sampled} sampled pixels inked");
        Assert.True(plotBlue > 200, $"no plot colours in the screenshot ({plotBlue} blue pixels): the images did not render");
    }

    private static string RunChromium(string chromium, TempDirectory folder, params string[] arguments)
    {
        var start = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Root in a container needs --no-sandbox; a profile of its own per run so parallel runs do not share one.
        foreach (var a in new[] { "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-dev-shm-usage", $"--user-data-dir={folder.File("chromium-profile")}" })
            start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{chromium} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"chromium {string.Join(' ', arguments)} did not finish in 2 minutes.");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"chromium {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{error.Result}");
        return output.Result;
    }

    /// <summary>Runs scripts/install-chromium.sh once per test run; its last line is the browser's path. Fails, never skips.</summary>
    private static string InstallChromium()
    {
        var script = Path.Combine(RepositoryRoot(), "scripts", "install-chromium.sh");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(15)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{script} did not finish in 15 minutes.");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed ({process.ExitCode}); the report test needs Debian's chromium:\n{error.Result}");
        var path = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (path is null || !File.Exists(path)) throw new InvalidOperationException($"{script} printed no chromium path:\n{output.Result}\n{error.Result}");
        return path;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "install-chromium.sh"))) return dir.FullName;
        throw new InvalidOperationException($"scripts/install-chromium.sh not found above {AppContext.BaseDirectory}.");
    }

    private static string Head(string text) => text.Length > 2000 ? text[..2000] + "..." : text;
}
