using System.CommandLine;
using Sparrow.Cli.Execution.Report;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow report RESULTS... -o report.html [--markdown report.md]</c>: one page from the results of bench, eval
/// and sensitivity (their --json files) and the pruned models: summary table, latency, Pareto plots, per-layer
/// sparsity, sensitivity heat map, energy.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(CommandContext context)
    {
        var results = new Argument<string[]>("results")
        {
            Description = "JSON files written by sparrow bench, eval or sensitivity with --json, .onnx models (for their sparsity), or folders (every *.json and *.onnx in them).",
            Arity = ArgumentArity.OneOrMore,
        };
        var output = new Option<string>("--output", "-o") { Description = "The HTML page to write (self-contained: images embedded).", DefaultValueFactory = _ => "report.html" };
        var markdown = new Option<string?>("--markdown") { Description = "Also write the report as Markdown to this file, its plots as PNG files beside it." };
        var title = new Option<string>("--title") { Description = "The report's title.", DefaultValueFactory = _ => ReportBuilder.DefaultTitle };
        var command = new Command("report", "Writes an HTML page (and Markdown) from the results of bench, eval and sensitivity and the pruned models: tables, Pareto plots, per-layer sparsity, sensitivity heat map, energy.")
        {
            results, output, markdown, title,
        };
        command.SetAction(parse => Run(context, parse.GetValue(results) ?? [], parse.GetValue(output) ?? "report.html", parse.GetValue(markdown), parse.GetValue(title) ?? ReportBuilder.DefaultTitle));
        return command;
    }

    internal static int Run(CommandContext context, IReadOnlyList<string> results, string output, string? markdown, string title)
    {
        var report = ReportBuilder.Write(results, output, markdown, title);
        var console = context.Console;
        var data = report.Data;
        context.Info($"Read {data.Sources.Count} file(s): {data.Variants.Count} model(s), {data.Sensitivities.Count} sensitivity result(s).");
        foreach (var note in data.Notes) context.Info($"[yellow]note[/]: {Markup.Escape(note)}");
        console.MarkupLine($"Wrote [bold]{Markup.Escape(output)}[/] ({report.Document.Tables.Count()} tables, {report.Document.Images.Count()} plots).");
        if (markdown is not null) console.MarkupLine($"Wrote [bold]{Markup.Escape(markdown)}[/] and {report.Document.Images.Count()} PNG file(s) beside it.");
        return ExitCodes.Success;
    }
}
