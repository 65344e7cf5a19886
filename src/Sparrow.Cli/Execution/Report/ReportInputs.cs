using System.Globalization;
using Sparrow.Data.Models;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Pruning.Structured;
using Sparrow.Tensors;

namespace Sparrow.Cli.Execution.Report;

/// <summary>
/// Reads the report's inputs (bench, eval and sensitivity JSON files, .onnx models, or folders of them) and matches
/// what they say about each model: by the model file's normalised full path, else by its file name.
/// </summary>
internal static class ReportInputs
{
    private const string EmbeddedSuffix = " (embedded)";

    /// <summary>The files the inputs name: each file as given, each folder's *.json and *.onnx (sorted); full paths.</summary>
    public static IReadOnlyList<string> Expand(IReadOnlyList<string> inputs)
    {
        if (inputs.Count == 0) throw new UsageException("give the results to report on: JSON files of sparrow bench, eval or sensitivity (--json), .onnx models, or a folder of them.");
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input)
                    .Where(f => IsJson(f) || IsOnnx(f))
                    .Order(StringComparer.Ordinal)
                    .ToArray();
                if (found.Length == 0) throw new UsageException($"{input} is a folder without any .json or .onnx file to report on.");
                files.AddRange(found.Select(Path.GetFullPath));
            }
            else if (File.Exists(input))
            {
                if (!IsJson(input) && !IsOnnx(input))
                    throw new UsageException($"{input}: give JSON results of sparrow bench, eval or sensitivity (.json) or models (.onnx).");
                files.Add(Path.GetFullPath(input));
            }
            else throw new UsageException($"{input}: no such file or folder.");
        }
        return files.Distinct(StringComparer.Ordinal).ToArray();
    }

    public static ReportData Read(IReadOnlyList<string> inputs)
    {
        var files = Expand(inputs);
        var data = new ReportData();
        var bench = new List<(string Path, BenchFile File)>();
        var eval = new List<(string Path, EvalFile File)>();
        var models = new List<string>();
        foreach (var file in files)
        {
            if (IsOnnx(file))
            {
                models.Add(file);
                continue;
            }
            var (kind, content) = ResultFileReader.Read(file);
            switch (content)
            {
                case BenchFile b:
                    bench.Add((file, b));
                    data.Sources.Add(new SourceFile(file, "bench", b.Command));
                    break;
                case EvalFile e:
                    eval.Add((file, e));
                    data.Sources.Add(new SourceFile(file, "eval", e.Command));
                    break;
                case SensitivityFile s:
                    if (s.Layers is not { Count: > 0 } || s.Sparsities is not { Count: > 0 }) throw new UsageException($"{file}: the sensitivity results hold no layers.");
                    data.Sensitivities.Add(s);
                    data.Sources.Add(new SourceFile(file, "sensitivity", s.Command));
                    break;
                default:
                    throw new UsageException($"{file}: {kind} results of an unexpected shape.");
            }
        }

        // Bench first: its first model is the dense baseline, and its order is the order the report keeps.
        foreach (var (path, file) in bench) AddBench(data, path, file);
        foreach (var (path, file) in eval) AddEval(data, path, file);
        foreach (var path in models)
        {
            var variant = Find(data, path, Path.GetFileName(path));
            variant.Sparsity = MeasureSparsity(path);
            data.Sources.Add(new SourceFile(path, "model", variant.Sparsity is { IsPruned: true, Method: { } m } ? $"pruned: {m}, {variant.Sparsity.Pattern}" : null));
        }
        if (data.Variants.Count == 0 && data.Sensitivities.Count == 0)
            throw new UsageException("the inputs hold no results: no model was measured, evaluated or given.");
        Disambiguate(data.Variants);
        // The baseline first, then the variants in the order met.
        var ordered = data.Variants.OrderBy(v => v.IsBaseline ? 0 : 1).ToArray();
        data.Variants.Clear();
        data.Variants.AddRange(ordered);
        return data;
    }

    private static void AddBench(ReportData data, string path, BenchFile file)
    {
        data.Machine ??= file.Machine;
        var byLabel = new Dictionary<string, Variant>(StringComparer.Ordinal);
        var entries = file.Models ?? [];
        // One baseline for the whole report: the first bench file's first model, not each file's.
        var baseline = data.Variants.FirstOrDefault(v => v.IsBaseline);
        Variant? first = null;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var label = entry.Label ?? (entry.Path is { } p ? Path.GetFileName(p) : $"model {i + 1}");
            var variant = entry.Path is { Length: > 0 } modelPath
                ? Find(data, Resolve(modelPath, path), Path.GetFileName(modelPath))
                : Find(data, null, StripEmbedded(label));
            if (i == 0)
            {
                first = variant;
                if (baseline is null) (baseline = variant).IsBaseline = true;
            }
            variant.InitializerBytes = entry.InitializerBytes ?? variant.InitializerBytes;
            variant.SessionWeightBytes = entry.SessionWeightBytes ?? variant.SessionWeightBytes;
            variant.Kernels = entry.KernelChoices ?? variant.Kernels;
            byLabel[label] = variant;
        }
        var baselineLabel = entries.Count > 0 ? entries[0].Label : null;
        var results = file.Results ?? [];
        foreach (var row in results)
        {
            if (row.Model is null || row.SparrowMs?.Median is null || row.Batch is null) continue;
            if (!byLabel.TryGetValue(row.Model, out var variant))
            {
                // A row whose model the models list does not name: still shown, under its label.
                variant = Find(data, null, row.Model);
                byLabel[row.Model] = variant;
            }
            double? denseSparrow, denseOrt;
            string baselineName;
            if (ReferenceEquals(first, baseline))
            {
                var dense = results.FirstOrDefault(r => r.Model == baselineLabel && r.Batch == row.Batch && r.Sequence == row.Sequence);
                denseSparrow = dense?.SparrowMs?.Median;
                denseOrt = dense?.OrtMs?.Median ?? (row.SparrowOverBaselineOrt is { } ratio && ratio > 0 ? row.SparrowMs.Median / ratio : null);
                baselineName = baselineLabel ?? "";
            }
            else
            {
                // This file did not measure the baseline: its rows are compared with the baseline's from an earlier
                // file at the same size (another run, so read them with care), or not at all.
                var measured = baseline?.Latency.FirstOrDefault(l => l.Batch == row.Batch && l.Sequence == row.Sequence);
                denseSparrow = measured?.Sparrow.Median;
                denseOrt = measured?.Ort?.Median;
                baselineName = baseline?.Name ?? "";
            }
            var energy = EnergyOf(row, file.Energy);
            // A later file measuring the same model at the same size replaces the earlier row: one row per size.
            variant.Latency.RemoveAll(l => l.Batch == row.Batch && l.Sequence == row.Sequence);
            variant.Latency.Add(new LatencyRow(row.Batch.Value, row.Sequence, row.SparrowMs, row.OrtMs, denseSparrow, denseOrt, baselineName, energy));
        }
    }

    /// <summary>A row's energy: bench's nested <c>sparrowEnergy</c>/<c>ortEnergy</c> (currency and method from the file's
    /// <c>energy</c> block), else the older flat fields; null when the row has none.</summary>
    internal static EnergyFigures? EnergyOf(BenchResultEntry row, BenchEnergySettings? settings)
    {
        var sparrow = row.SparrowEnergy;
        double? joules = sparrow?.EnergyJoulesPerInference ?? row.EnergyJoulesPerInference;
        double? perJoule = sparrow?.InferencesPerJoule ?? row.InferencesPerJoule;
        double? grams = sparrow?.GramsCo2ePerMillion ?? row.GramsCo2ePerMillion;
        double? cost = sparrow?.CostPerMillion ?? row.CostPerMillion;
        if (joules is null && perJoule is null && grams is null && cost is null) return null;
        return new EnergyFigures(joules ?? (perJoule is > 0 ? 1 / perJoule : null), perJoule ?? (joules is > 0 ? 1 / joules : null), grams, cost,
            sparrow?.EnergyMethod ?? row.EnergyMethod ?? settings?.EnergyMethod, settings?.Currency ?? row.Currency,
            row.OrtEnergy?.EnergyJoulesPerInference ?? row.OrtEnergyJoulesPerInference);
    }

    private static void AddEval(ReportData data, string path, EvalFile file)
    {
        foreach (var task in file.Tasks ?? [])
            if (task.Name is { } name && !data.Tasks.Contains(name)) data.Tasks.Add(name);
        var results = file.Results ?? [];
        // Without tasks eval writes no row for its reference: it scores 1 against itself.
        if (file.Reference is { } referenceName && !results.Any(r => r.IsReference == true))
            results = [new EvalResultEntry { Model = referenceName, MeanCosine = 1, MinCosine = 1, IsReference = true }, .. results];
        foreach (var result in results)
        {
            if (result.Model is null) continue;
            var isReference = result.IsReference == true;
            var variant = isReference ? FindReference(data, path, result.Model) : FindEvalModel(data, path, result.Model);
            variant.MeanCosine = result.MeanCosine ?? variant.MeanCosine;
            variant.MinCosine = result.MinCosine ?? variant.MinCosine;
            if (isReference)
            {
                variant.IsReference = true;
                variant.IsBaseline = true;
            }
            foreach (var task in result.Tasks ?? [])
            {
                if (task.Task is null || task.Accuracy is null) continue;
                if (!data.Tasks.Contains(task.Task)) data.Tasks.Add(task.Task);
                var versus = result.VersusReference?.FirstOrDefault(d => d.Task == task.Task);
                variant.Tasks[task.Task] = new TaskScore(task.Accuracy.Value, task.StandardError, versus?.Difference, versus?.StandardError);
            }
        }
    }

    private static Variant FindEvalModel(ReportData data, string jsonPath, string model) =>
        model.EndsWith(EmbeddedSuffix, StringComparison.Ordinal)
            ? Find(data, null, StripEmbedded(model))
            : Find(data, Resolve(model, jsonPath), Path.GetFileName(model));

    /// <summary>
    /// eval's reference. The embedded model has no file, while bench needs files and so measured a copy of it: when
    /// nothing else matches, the embedded reference is taken to be the bench baseline, and the page says so.
    /// </summary>
    private static Variant FindReference(ReportData data, string jsonPath, string model)
    {
        if (!model.EndsWith(EmbeddedSuffix, StringComparison.Ordinal)) return FindEvalModel(data, jsonPath, model);
        var name = StripEmbedded(model);
        if (TryFind(data, null, name) is { } found) return found;
        if (data.Variants.FirstOrDefault(v => v.IsBaseline && v.MeanCosine is null && v.Tasks.Count == 0 && v.Sparsity is not { IsPruned: true }) is { } baseline)
        {
            data.Notes.Add($"eval's reference, the embedded {name}, is shown as bench's baseline {baseline.Name} (bench measures files; its first model is taken to be the same dense model).");
            return baseline;
        }
        return Find(data, null, name);
    }

    /// <summary>The variant for a model, made when none matches yet.</summary>
    private static Variant Find(ReportData data, string? fullPath, string fileName)
    {
        if (TryFind(data, fullPath, fileName) is { } found)
        {
            found.FullPath ??= fullPath;
            return found;
        }
        var variant = new Variant(fileName, fullPath);
        data.Variants.Add(variant);
        return variant;
    }

    /// <summary>
    /// By full path; else by file name, unless both sides are files that exist and differ (run1/m.onnx and
    /// run2/m.onnx are two models). A file name that several variants share matches none of them.
    /// </summary>
    internal static Variant? TryFind(ReportData data, string? fullPath, string fileName)
    {
        if (fullPath is not null && data.Variants.FirstOrDefault(v => v.FullPath == fullPath) is { } exact) return exact;
        var candidates = data.Variants
            .Where(v => string.Equals(v.FileName, fileName, StringComparison.Ordinal))
            .Where(v => v.FullPath is null || fullPath is null || !File.Exists(v.FullPath) || !File.Exists(fullPath))
            .ToArray();
        return candidates.Length == 1 ? candidates[0] : null;
    }

    /// <summary>
    /// A model path as a results file wrote it, as a full path: relative paths are relative to where the command ran,
    /// which the file does not say; beside the JSON file if the model is there, else from the current folder.
    /// </summary>
    internal static string Resolve(string modelPath, string jsonPath)
    {
        if (Path.IsPathRooted(modelPath)) return Path.GetFullPath(modelPath);
        var besideJson = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!, modelPath));
        return File.Exists(besideJson) ? besideJson : Path.GetFullPath(modelPath);
    }

    private static string StripEmbedded(string name) =>
        name.EndsWith(EmbeddedSuffix, StringComparison.Ordinal) ? name[..^EmbeddedSuffix.Length] : name;

    /// <summary>Two variants with one file name are told apart by their paths.</summary>
    private static void Disambiguate(List<Variant> variants)
    {
        foreach (var group in variants.GroupBy(v => v.Name).Where(g => g.Count() > 1))
            foreach (var v in group)
                if (v.FullPath is not null) v.Name = Path.GetRelativePath(Environment.CurrentDirectory, v.FullPath);
    }

    /// <summary>
    /// Zeros per prunable weight: the weights of the model's pruning record (with their targets), or, without one, every
    /// weight a pruner would target. Labels say the encoder layer and role where the structure is recognised.
    /// </summary>
    internal static ModelSparsity MeasureSparsity(string path)
    {
        var model = OnnxImporter.Load(path);
        var graph = model.Graph;
        var record = PruningRecord.ReadFrom(model);
        IReadOnlyDictionary<string, string> roles;
        try
        {
            roles = EncoderStructure.TryFind(graph)?.WeightRoles() ?? new Dictionary<string, string>();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Labels are a nicety: a graph the structure finder trips on keeps the node names.
            roles = new Dictionary<string, string>();
        }
        IEnumerable<(string Weight, double? Target)> weights = record is not null
            ? record.Targets.Select(kv => (kv.Key, kv.Value))
            : PruningTargets.Find(graph).Select(t => (t.WeightName, (double?)null));

        var layers = new List<LayerSparsityRow>();
        long targetParameters = 0, targetZeros = 0;
        foreach (var (weight, target) in weights)
        {
            if (!graph.Initializers.TryGetValue(weight, out var tensor) || tensor.Length == 0) continue;
            var zeros = Zeros(tensor);
            targetParameters += tensor.Length;
            targetZeros += zeros;
            layers.Add(new LayerSparsityRow(roles.GetValueOrDefault(weight) ?? NodeLabel(graph, weight), weight, target, (double)zeros / tensor.Length, tensor.Length));
        }
        long all = 0, allZeros = 0;
        foreach (var tensor in graph.Initializers.Values)
        {
            all += tensor.Length;
            allZeros += Zeros(tensor);
        }
        return new ModelSparsity(record?.Method, record?.Pattern, new FileInfo(path).Length, targetParameters, targetZeros, all, allZeros, layers);
    }

    private static long Zeros(Tensor tensor) => tensor is Tensor<float> values ? values.Span.Count(0f) : 0;

    /// <summary>The name of the node that multiplies by the weight, without the exporter's boilerplate; else the weight's name.</summary>
    private static string NodeLabel(ModelGraph graph, string weight)
    {
        var node = graph.Nodes.FirstOrDefault(n => n.Inputs.Contains(weight));
        var name = node?.Name.Trim('/');
        if (string.IsNullOrEmpty(name)) return weight;
        var slash = name.LastIndexOf('/');
        if (slash > 0 && name[(slash + 1)..].StartsWith(node!.OpType, StringComparison.Ordinal)) name = name[..slash];
        return name.Length > 0 ? name : weight;
    }

    private static bool IsJson(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    private static bool IsOnnx(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>The embedded model's name as the other commands print it, for tests.</summary>
    internal static string EmbeddedName => DefaultModel.Name + EmbeddedSuffix;

    internal static string Percent(double fraction, string format = "0.0") => (100 * fraction).ToString(format, CultureInfo.InvariantCulture) + " %";
}
