using System.Globalization;
using static Sparrow.Cli.Execution.BenchOutput;

namespace Sparrow.Cli.Execution.Report;

/// <summary>Turns the matched results into the report's sections: tables with what each column means, and plots.</summary>
internal static class ReportContent
{
    public static ReportDocument Build(ReportData data, string title, DateTime generatedUtc)
    {
        var blocks = new List<ReportBlock> { new HeadingBlock(1, title) };
        blocks.Add(new ParagraphBlock(string.Create(CultureInfo.InvariantCulture,
            $"Made by `sparrow report` on {generatedUtc:yyyy-MM-dd HH:mm} UTC from {data.Sources.Count} file(s): {Describe(data)}.")));
        if (data.Machine is { } m)
            blocks.Add(new ParagraphBlock($"Measured on: {m.Cpu ?? "?"}, {m.LogicalCores?.ToString(CultureInfo.InvariantCulture) ?? "?"} logical cores, {m.VectorIsa ?? "?"}; "
                + $"{m.Runtime ?? "?"}; ONNX Runtime {m.OnnxRuntime ?? "?"}; {m.Threads?.ToString(CultureInfo.InvariantCulture) ?? "?"} thread(s) for each engine."));
        if (data.Notes.Count > 0) blocks.Add(new ListBlock(data.Notes));

        if (data.Variants.Count > 0)
        {
            blocks.Add(new HeadingBlock(2, "Summary"));
            blocks.Add(SummaryTable(data));
            blocks.Add(new ParagraphBlock(SummaryExplanation(data)));
        }
        if (data.Variants.Any(v => v.Latency.Count > 0))
        {
            blocks.Add(new HeadingBlock(2, "Latency"));
            blocks.Add(LatencyTable(data));
            blocks.Add(new ParagraphBlock("Sparrow and ONNX Runtime ran side by side in one `sparrow bench` run, taking turns after a warm-up, with the same thread count; "
                + "latency is the median per run in milliseconds, with the 25th and 75th percentiles in brackets. Speed-ups are ratios of medians, above 1 meaning faster: "
                + "vs dense = Sparrow on the dense baseline (the run's first model) over Sparrow on this model; vs ORT = ONNX Runtime on the same model over Sparrow; "
                + "vs ORT dense = ONNX Runtime on the dense baseline over Sparrow on this model, what switching both the model and the runtime gains."));
        }
        if (data.HasEnergy)
        {
            blocks.Add(new HeadingBlock(2, "Energy"));
            blocks.Add(EnergyTable(data));
            if (ReportPlots.EnergyPerInference(data, "energy-per-inference") is { } energyPlot) blocks.Add(energyPlot);
            if (ReportPlots.QualityVsEnergy(data, "quality-vs-energy") is { } paretoPlot) blocks.Add(paretoPlot);
        }
        if (data.Variants.Any(v => v.InitializerBytes is not null || v.SessionWeightBytes is not null || v.Sparsity is not null))
        {
            blocks.Add(new HeadingBlock(2, "Memory and kernels"));
            blocks.Add(MemoryTable(data));
            blocks.Add(new ParagraphBlock("File: the .onnx file's size (a compact model stores sparse weights as non-zeros and indices). Initializers: the weights as the model stores them, "
                + "zeros included. In session: the bytes Sparrow's session holds for the weights after choosing a kernel per weight (sparse formats keep only the non-zeros). "
                + "Kernels: how many weights run each kernel, chosen by measuring on this machine."));
        }

        var pareto = new List<ReportBlock>();
        foreach (var (batch, sequence) in data.Configurations)
            if (ReportPlots.QualityVsLatency(data, batch, sequence, Slug($"quality-vs-latency-b{batch}" + (sequence is { } s ? $"-s{s}" : ""))) is { } plot) pareto.Add(plot);
        if (ReportPlots.QualityVsSparsity(data, "quality-vs-sparsity") is { } sparsityPlot) pareto.Add(sparsityPlot);
        if (pareto.Count > 0)
        {
            blocks.Add(new HeadingBlock(2, "Quality against latency and sparsity"));
            blocks.AddRange(pareto);
        }

        var layerPlots = data.Variants.Where(v => v.Sparsity is { IsPruned: true })
            .Select(v => ReportPlots.LayerSparsity(v, Slug("layers-" + Path.GetFileNameWithoutExtension(v.Name))))
            .OfType<ImageBlock>().ToArray();
        if (layerPlots.Length > 0)
        {
            blocks.Add(new HeadingBlock(2, "Sparsity per layer"));
            blocks.AddRange(layerPlots);
        }

        if (data.Sensitivities.Count > 0)
        {
            blocks.Add(new HeadingBlock(2, "Sensitivity per layer"));
            for (var i = 0; i < data.Sensitivities.Count; i++)
                blocks.Add(ReportPlots.SensitivityHeatmap(data.Sensitivities[i], data.Sensitivities.Count == 1 ? "sensitivity" : $"sensitivity-{i + 1}"));
        }

        blocks.Add(new HeadingBlock(2, "Sources"));
        blocks.Add(new ListBlock(data.Sources.Select(s => $"{s.Kind}: {s.Path}" + (s.Command is null ? "" : s.Kind == "model" ? $" ({s.Command})" : $", made by `{s.Command}`")).ToArray()));
        return new ReportDocument(title, UniqueImageNames(blocks));
    }

    private static string Describe(ReportData data)
    {
        var kinds = data.Sources.GroupBy(s => s.Kind).Select(g => $"{g.Count()} {g.Key}{(g.Key == "model" && g.Count() > 1 ? "s" : "")}");
        return string.Join(", ", kinds);
    }

    private static TableBlock SummaryTable(ReportData data)
    {
        var configurations = data.Configurations;
        var withPruning = data.Variants.Any(v => v.Sparsity is not null);
        var withFidelity = data.Variants.Any(v => v.MeanCosine is not null);
        var withWeights = data.Variants.Any(v => v.SessionWeightBytes is not null || v.InitializerBytes is not null);
        var firstEnergy = configurations.FirstOrDefault(c => data.Variants.Any(v => EnergyAt(v, c) is not null));
        var withEnergy = data.HasEnergy;
        var headers = new List<string> { "model" };
        if (withPruning) headers.AddRange(["pruning", "sparsity"]);
        if (withFidelity) headers.AddRange(["mean cosine", "lowest cosine"]);
        headers.AddRange(data.Tasks.Select(t => $"{t} acc. %"));
        if (withWeights) headers.Add("weights MB");
        headers.AddRange(configurations.Select(c => $"speed-up {Label(c)}"));
        if (withEnergy) headers.Add($"mJ/inference {Label(firstEnergy)}");
        var rows = new List<IReadOnlyList<string>>();
        foreach (var v in data.Variants)
        {
            var row = new List<string> { v.Name + (v.IsBaseline ? " (baseline)" : "") };
            if (withPruning)
            {
                row.Add(v.Sparsity is null ? "-" : !v.Sparsity.IsPruned ? "dense" : v.Sparsity.Method is { } method ? $"{method}, {v.Sparsity.Pattern}" : "(no record)");
                row.Add(v.Sparsity is null ? "-" : ReportInputs.Percent(v.Sparsity.Sparsity));
            }
            if (withFidelity) row.AddRange([Fixed(v.MeanCosine, "0.0000"), Fixed(v.MinCosine, "0.0000")]);
            row.AddRange(data.Tasks.Select(t => v.Tasks.TryGetValue(t, out var score) ? TaskCell(score) : "-"));
            if (withWeights) row.Add((v.SessionWeightBytes ?? v.InitializerBytes) is { } bytes ? MegaBytes(bytes) : "-");
            row.AddRange(configurations.Select(c => v.Latency.FirstOrDefault(l => (l.Batch, l.Sequence) == c)?.SpeedupVsDense is { } speedup ? Times(speedup) : "-"));
            if (withEnergy) row.Add(EnergyAt(v, firstEnergy)?.JoulesPerInference is { } joules ? Fixed(1000 * joules, "0.000") : "-");
            rows.Add(row);
        }
        return new TableBlock("One row per model: its pruning, quality, weight memory and speed-up over the dense baseline.", headers, rows, withPruning ? [0, 1] : [0]);
    }

    private static string SummaryExplanation(ReportData data)
    {
        var parts = new List<string>();
        if (data.Variants.Any(v => v.Sparsity is not null))
            parts.Add("pruning: the method and pattern recorded in the model (dense when it has no zeros); sparsity: the share of zeros in the prunable weights (the weights the pruning record names, else every MatMul/Gemm/Conv weight but embeddings and the classifier)");
        if (data.Variants.Any(v => v.MeanCosine is not null))
            parts.Add("mean and lowest cosine: how close the model's sentence embeddings stay to the reference's on held-out sentences (1 = identical)");
        if (data.Tasks.Count > 0)
            parts.Add("task accuracy: a classifier trained on the model's own embeddings, accuracy on held-out items in %, in brackets the difference to the reference on the same items ± its paired standard error");
        if (data.Variants.Any(v => v.SessionWeightBytes is not null || v.InitializerBytes is not null))
            parts.Add("weights MB: what Sparrow's session holds for the weights (else as stored in the model)");
        if (data.Variants.Any(v => v.Latency.Count > 0))
            parts.Add("speed-up: Sparrow on the dense baseline over Sparrow on this model at that batch size (b) and sequence length (s), from the same bench run; above 1 is faster");
        if (data.HasEnergy)
            parts.Add("mJ/inference: energy of one inference (one item of a batch) in Sparrow, as bench measured or estimated it (see Energy)");
        return "Columns: " + string.Join("; ", parts) + ".";
    }

    private static TableBlock LatencyTable(ReportData data)
    {
        var withSequence = data.Variants.SelectMany(v => v.Latency).Any(l => l.Sequence is not null);
        var headers = new List<string> { "model", "batch" };
        if (withSequence) headers.Add("seq");
        headers.AddRange(["Sparrow ms", "ONNX Runtime ms", "vs dense", "vs ORT", "vs ORT dense", "Sparrow items/s"]);
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (batch, sequence) in data.Configurations)
            foreach (var v in data.Variants)
            {
                if (v.Latency.FirstOrDefault(l => l.Batch == batch && l.Sequence == sequence) is not { } l) continue;
                var row = new List<string> { v.Name, batch.ToString(CultureInfo.InvariantCulture) };
                if (withSequence) row.Add(sequence?.ToString(CultureInfo.InvariantCulture) ?? "-");
                row.AddRange([Timing(l.Sparrow), l.Ort is null ? "-" : Timing(l.Ort), Times(l.SpeedupVsDense), Times(l.SpeedupVsOrt), Times(l.SpeedupVsDenseOrt),
                    l.Sparrow.Median is { } ms ? PerSecond(batch, ms) : "-"]);
                rows.Add(row);
            }
        return new TableBlock("Latency per run and speed-ups, per batch size and sequence length.", headers, rows);
    }

    private static TableBlock EnergyTable(ReportData data)
    {
        var rows = new List<IReadOnlyList<string>>();
        var withOrt = data.Variants.SelectMany(v => v.Latency).Any(l => l.Energy?.OrtJoulesPerInference is not null);
        var currency = data.Variants.SelectMany(v => v.Latency).Select(l => l.Energy?.Currency).FirstOrDefault(c => !string.IsNullOrEmpty(c));
        var headers = new List<string> { "model", "batch", "seq", "Sparrow mJ/inference" };
        if (withOrt) headers.Add("ONNX Runtime mJ/inference");
        headers.AddRange(["inferences/J", "gCO2e per million", currency is null ? "cost per million" : $"cost per million ({currency})", "method"]);
        foreach (var (batch, sequence) in data.Configurations)
            foreach (var v in data.Variants)
            {
                if (EnergyAt(v, (batch, sequence)) is not { } e) continue;
                var row = new List<string> { v.Name, batch.ToString(CultureInfo.InvariantCulture), sequence?.ToString(CultureInfo.InvariantCulture) ?? "-",
                    e.JoulesPerInference is { } j ? Fixed(1000 * j, "0.000") : "-" };
                if (withOrt) row.Add(e.OrtJoulesPerInference is { } o ? Fixed(1000 * o, "0.000") : "-");
                row.AddRange([Fixed(e.InferencesPerJoule, "0.0"), Fixed(e.GramsCo2ePerMillion, "0.00"), Fixed(e.CostPerMillion, "0.0000"), e.Method ?? "-"]);
                rows.Add(row);
            }
        return new TableBlock("Energy, carbon and cost per inference, as bench reports them (an estimate is labelled as one in the method column).", headers, rows, [0, headers.Count - 1]);
    }

    private static TableBlock MemoryTable(ReportData data)
    {
        var baseline = data.Variants.FirstOrDefault(v => v.IsBaseline);
        var headers = new[] { "model", "file MB", "parameters", "initializers MB", "in session MB", "in session % of baseline", "kernels (weights)" };
        var rows = data.Variants.Select(v => (IReadOnlyList<string>)
        [
            v.Name,
            v.Sparsity is null ? "-" : MegaBytes(v.Sparsity.FileBytes),
            v.Sparsity is null ? "-" : Commands.CommonOptions.FormatShort(v.Sparsity.AllParameters),
            v.InitializerBytes is { } i ? MegaBytes(i) : "-",
            v.SessionWeightBytes is { } s ? MegaBytes(s) : "-",
            v.SessionWeightBytes is { } s2 && baseline?.SessionWeightBytes is { } b && b > 0 ? Fixed(100.0 * s2 / b, "0.0") + " %" : "-",
            v.Kernels is null ? "-" : string.Join(", ", v.Kernels.Values.GroupBy(k => k).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")),
        ]).ToArray();
        return new TableBlock("Weight memory and the kernel chosen per weight.", headers, rows, [0, headers.Length - 1]);
    }

    private static EnergyFigures? EnergyAt(Variant v, (int Batch, int? Sequence) c) =>
        v.Latency.FirstOrDefault(l => l.Batch == c.Batch && l.Sequence == c.Sequence)?.Energy;

    private static string TaskCell(TaskScore score)
    {
        var accuracy = Fixed(100 * score.Accuracy, "0.0");
        if (score.Difference is not { } d) return accuracy;
        return accuracy + string.Create(CultureInfo.InvariantCulture, $" ({100 * d:+0.0;-0.0;0.0}") + (score.DifferenceError is { } se ? $" ± {Fixed(100 * se, "0.0")})" : ")");
    }

    private static string Label((int Batch, int? Sequence) c) => c.Sequence is { } s ? $"b{c.Batch} s{s}" : $"b{c.Batch}";

    private static string Timing(TimingEntry t) =>
        t.Median is not { } median ? "-" : t.P25 is { } p25 && t.P75 is { } p75 ? $"{Ms(median)} ({Ms(p25)}-{Ms(p75)})" : Ms(median);

    private static string Times(double? ratio) => ratio is { } r && double.IsFinite(r) ? Fixed(r, "0.00") + "x" : "-";

    private static string Fixed(double? value, string format) => value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    /// <summary>A name safe in a file name: letters, digits and dashes.</summary>
    internal static string Slug(string text)
    {
        var chars = text.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray();
        var slug = string.Join('-', new string(chars).Split('-', StringSplitOptions.RemoveEmptyEntries));
        return slug.Length == 0 ? "image" : slug.Length > 60 ? slug[..60] : slug;
    }

    private static List<ReportBlock> UniqueImageNames(List<ReportBlock> blocks)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < blocks.Count; i++)
        {
            if (blocks[i] is not ImageBlock image) continue;
            var name = image.Name;
            for (var n = 2; !used.Add(name); n++) name = $"{image.Name}-{n}";
            if (name != image.Name) blocks[i] = image with { Name = name };
        }
        return blocks;
    }
}
