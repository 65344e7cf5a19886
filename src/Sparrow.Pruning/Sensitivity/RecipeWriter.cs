using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sparrow.Pruning.Sensitivity;

/// <summary>Writes a <see cref="PruningRecipe"/> as the JSON or YAML that <see cref="PruningRecipe.Load"/> (and so <c>sparrow prune --recipe</c>) reads back.</summary>
public static class RecipeWriter
{
    /// <summary>The recipe that applies <paramref name="allocation"/>: every analysed weight gets its own sparsity, the rest of the selection the target.</summary>
    public static PruningRecipe FromAllocation(SparsityAllocation allocation, string method, TargetSelection targets, string pattern = "unstructured", string? calibration = null)
    {
        ArgumentNullException.ThrowIfNull(allocation);
        ArgumentNullException.ThrowIfNull(targets);
        return new PruningRecipe
        {
            Method = method,
            Pattern = pattern,
            Sparsity = allocation.TargetSparsity,
            OpTypes = targets.OpTypes,
            Include = targets.Include,
            Exclude = targets.Exclude,
            LayerSparsity = allocation.Sparsities,
            Calibration = calibration,
        };
    }

    /// <summary>JSON or YAML by the file name (as <see cref="PruningRecipe.Load"/> decides), written atomically.</summary>
    public static void Save(PruningRecipe recipe, string path, string? comment = null) =>
        Graph.AtomicFile.WriteAllText(path, PruningRecipe.IsYaml(path) ? ToYaml(recipe, comment) : ToJson(recipe));

    /// <summary>The recipe as indented JSON that <see cref="PruningRecipe.Parse(string, string?, string?)"/> reads back to an equal recipe.</summary>
    public static string ToJson(PruningRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var json = new StringBuilder("{\n");
        var fields = new List<string>
        {
            $"  \"method\": {Quote(recipe.Method)}",
            $"  \"pattern\": {Quote(recipe.Pattern)}",
        };
        if (recipe.Sparsity is { } sparsity) fields.Add($"  \"sparsity\": {Number(sparsity)}");
        fields.Add($"  \"seed\": {recipe.Seed.ToString(CultureInfo.InvariantCulture)}");
        var targets = new List<string>();
        if (recipe.OpTypes.Count > 0) targets.Add($"    \"opTypes\": [{string.Join(", ", recipe.OpTypes.Select(Quote))}]");
        if (recipe.Include.Count > 0) targets.Add($"    \"include\": [{string.Join(", ", recipe.Include.Select(Quote))}]");
        if (recipe.Exclude.Count > 0) targets.Add($"    \"exclude\": [{string.Join(", ", recipe.Exclude.Select(Quote))}]");
        if (targets.Count > 0) fields.Add("  \"targets\": {\n" + string.Join(",\n", targets) + "\n  }");
        if (recipe.LayerSparsity.Count > 0)
            fields.Add("  \"layerSparsity\": {\n" + string.Join(",\n", recipe.LayerSparsity.Select(o => $"    {Quote(o.Key)}: {Number(o.Value)}")) + "\n  }");
        if (recipe.Calibration is { } calibration) fields.Add($"  \"calibration\": {Quote(calibration)}");
        json.Append(string.Join(",\n", fields)).Append("\n}\n");
        return json.ToString();
    }

    /// <summary>YAML with every string double-quoted (JSON-style escapes are valid YAML), so names such as "927" stay strings.</summary>
    public static string ToYaml(PruningRecipe recipe, string? comment = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var yaml = new StringBuilder();
        if (comment is not null)
            foreach (var line in comment.Split('\n')) yaml.Append("# ").AppendLine(line.TrimEnd('\r'));
        yaml.AppendLine($"method: {Quote(recipe.Method)}");
        yaml.AppendLine($"pattern: {Quote(recipe.Pattern)}");
        if (recipe.Sparsity is { } sparsity) yaml.AppendLine($"sparsity: {Number(sparsity)}");
        yaml.AppendLine($"seed: {recipe.Seed.ToString(CultureInfo.InvariantCulture)}");
        if (recipe.OpTypes.Count + recipe.Include.Count + recipe.Exclude.Count > 0)
        {
            yaml.AppendLine("targets:");
            if (recipe.OpTypes.Count > 0) yaml.AppendLine($"  opTypes: [{string.Join(", ", recipe.OpTypes.Select(Quote))}]");
            if (recipe.Include.Count > 0) yaml.AppendLine($"  include: [{string.Join(", ", recipe.Include.Select(Quote))}]");
            if (recipe.Exclude.Count > 0) yaml.AppendLine($"  exclude: [{string.Join(", ", recipe.Exclude.Select(Quote))}]");
        }
        if (recipe.LayerSparsity.Count > 0)
        {
            yaml.AppendLine("layerSparsity:");
            foreach (var (weight, value) in recipe.LayerSparsity) yaml.AppendLine($"  {Quote(weight)}: {Number(value)}");
        }
        if (recipe.Calibration is { } calibration) yaml.AppendLine($"calibration: {Quote(calibration)}");
        return yaml.ToString();
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text);

    /// <summary>Round-trip precision, so a layer's sparsity read back prunes exactly the planned count.</summary>
    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
