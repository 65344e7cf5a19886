using System.Text;
using System.Text.Json;

namespace Sparrow.Pruning;

/// <summary>
/// A pruning plan read from a JSON (or YAML) file: the same choices as <c>sparrow prune</c>'s flags, kept as written (the
/// method and pattern as text) so that one validation path turns both into <see cref="PruneSettings"/>. Reading
/// checks the file's shape (known fields, value types); <see cref="LineOf"/> lets later value checks name the line.
/// </summary>
/// <example><code>
/// {
///   "method": "wanda", "pattern": "unstructured", "sparsity": 0.5, "seed": 0,
///   "targets": { "opTypes": ["MatMul"], "include": ["^9"], "exclude": [] },
///   "layerSparsity": { "927": 0.3 },
///   "calibration": "sentences.txt", "allocation": "uniform"
/// }
/// </code></example>
public sealed record PruningRecipe
{
    /// <summary>The top-level fields, in the order the documentation lists them.</summary>
    public static readonly IReadOnlyList<string> Fields = ["method", "pattern", "sparsity", "seed", "targets", "layerSparsity", "calibration", "structured", "allocation"];

    /// <summary>The fields of <c>structured</c>.</summary>
    public static readonly IReadOnlyList<string> StructuredFields = ["heads", "neurons", "layers"];

    /// <summary>The fields of <c>targets</c>.</summary>
    public static readonly IReadOnlyList<string> TargetFields = ["opTypes", "include", "exclude"];

    /// <summary>magnitude, global-magnitude, random, wanda or sparsegpt (checked where the recipe is used).</summary>
    public string Method { get; init; } = "magnitude";

    /// <summary>As <see cref="PruningPattern.Parse"/> reads it.</summary>
    public string Pattern { get; init; } = "unstructured";

    /// <summary>Fraction of each target to prune, as <see cref="PruneSettings.Sparsity"/>.</summary>
    public double? Sparsity { get; init; }

    /// <summary>Seed of the random method.</summary>
    public int Seed { get; init; }

    /// <summary>Op types to prune (empty: the defaults), as <see cref="TargetSelection.OpTypes"/>.</summary>
    public IReadOnlyList<string> OpTypes { get; init; } = [];

    /// <summary>Weight-name regexes to include, as <see cref="TargetSelection.Include"/>.</summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>Weight-name regexes to leave out, as <see cref="TargetSelection.Exclude"/>.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Weight name → sparsity, in the file's order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> LayerSparsity { get; init; } = [];

    /// <summary>
    /// How the sparsity is spread over the weights, as <c>sparrow prune --allocation</c>: uniform (the default) or owl
    /// (checked where the recipe is used).
    /// </summary>
    public string Allocation { get; init; } = "uniform";

    /// <summary>The calibration sentences file, made absolute against the recipe's folder; null when not given.</summary>
    public string? Calibration { get; init; }

    /// <summary>
    /// Structured pruning (<c>"structured": { "heads": 0.25, "neurons": 0.25, "layers": 0 }</c>): fractions of each layer's
    /// heads and feed-forward neurons and a number of layers to remove physically; null when not given.
    /// </summary>
    public StructuredRecipe? Structured { get; init; }

    /// <summary>The file it was read from (null when parsed from text without a path).</summary>
    public string? SourcePath { get; init; }

    private Dictionary<string, int> Lines { get; init; } = new();

    /// <summary>The line (1-based) of the field's value, e.g. "sparsity", "targets.include" or "layerSparsity.927"; null when absent.</summary>
    public int? LineOf(string field) => Lines.TryGetValue(field, out var line) ? line : null;

    /// <summary>Reads a recipe file; a relative calibration path is taken relative to the file's folder.</summary>
    /// <exception cref="PruningRecipeException">The file is not valid JSON or not a valid recipe (the message names the line and field).</exception>
    public static PruningRecipe Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PruningRecipeException($"{path}: cannot read the recipe: {e.Message}", path, null, null);
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return IsYaml(path) ? ParseYaml(Encoding.UTF8.GetString(bytes), path, folder) : Parse(bytes, path, folder);
    }

    /// <summary>Whether <see cref="Load"/> reads the file as YAML (.yaml, .yml) rather than JSON.</summary>
    public static bool IsYaml(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".yaml" or ".yml";

    /// <summary>Parses a YAML recipe: the same fields and checks as JSON, with errors naming the YAML's lines.</summary>
    public static PruningRecipe ParseYaml(string yaml, string? sourcePath = null, string? baseFolder = null) =>
        Parse(YamlRecipeText.ToJson(yaml, sourcePath ?? "recipe"), sourcePath, baseFolder);

    /// <summary>Parses recipe text; <paramref name="baseFolder"/> anchors a relative calibration path (default: the current folder).</summary>
    public static PruningRecipe Parse(ReadOnlySpan<byte> utf8, string? sourcePath = null, string? baseFolder = null)
    {
        // A UTF-8 byte order mark is common in files from Windows editors.
        if (utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) utf8 = utf8[3..];
        var parser = new Parser(utf8.ToArray(), sourcePath ?? "recipe");
        try
        {
            return parser.Read(sourcePath, baseFolder ?? Directory.GetCurrentDirectory());
        }
        catch (JsonException e)
        {
            // The reader's own syntax errors: their line and position are 0-based.
            var line = (e.LineNumber ?? 0) + 1;
            var message = e.Message;
            var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) message = message[..cut].TrimEnd(' ', '|', '.') + ".";
            throw new PruningRecipeException($"{sourcePath ?? "recipe"}: line {line}, column {(e.BytePositionInLine ?? 0) + 1}: not valid JSON: {message}", sourcePath, (int)line, null);
        }
    }

    /// <summary>Reads a JSON recipe from <paramref name="json"/>; <paramref name="sourcePath"/> names it in messages and relative paths resolve against <paramref name="baseFolder"/> (default: the current folder).</summary>
    /// <exception cref="PruningRecipeException">The recipe is not valid JSON or has an unknown or wrong field; the message gives the line.</exception>
    public static PruningRecipe Parse(string json, string? sourcePath = null, string? baseFolder = null) =>
        Parse(Encoding.UTF8.GetBytes(json), sourcePath, baseFolder);

    private ref struct Parser(byte[] bytes, string name)
    {
        private Utf8JsonReader reader = new(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        private readonly Dictionary<string, int> lines = new();

        private int Line => 1 + bytes.AsSpan(0, (int)reader.TokenStartIndex).Count((byte)'\n');

        private PruningRecipeException Error(string field, string message) =>
            new($"{name}: line {Line}, field '{field}': {message}", name, Line, field);

        public PruningRecipe Read(string? sourcePath, string baseFolder)
        {
            Next();
            if (reader.TokenType != JsonTokenType.StartObject)
                throw new PruningRecipeException($"{name}: line {Line}: a recipe is an object of fields (method, sparsity, ...), not {Describe()}.", name, Line, null);
            var recipe = new PruningRecipe { SourcePath = sourcePath, Lines = lines };
            var seen = new HashSet<string>();
            while (true)
            {
                Next();
                if (reader.TokenType == JsonTokenType.EndObject) break;
                var field = reader.GetString()!;
                if (!Fields.Contains(field))
                    throw Error(field, $"unknown field; the fields are: {string.Join(", ", Fields)}.");
                if (!seen.Add(field)) throw Error(field, "given twice.");
                Next();
                lines[field] = Line;
                recipe = field switch
                {
                    "method" => recipe with { Method = String(field) },
                    "pattern" => recipe with { Pattern = String(field) },
                    "sparsity" => recipe with { Sparsity = Number(field) },
                    "seed" => recipe with { Seed = Integer(field) },
                    "targets" => ReadTargets(recipe),
                    "layerSparsity" => recipe with { LayerSparsity = ReadOverrides() },
                    "structured" => recipe with { Structured = ReadStructured() },
                    "allocation" => recipe with { Allocation = NonEmpty(field) },
                    _ => recipe with { Calibration = Path.GetFullPath(Path.Combine(baseFolder, NonEmpty(field))) },
                };
            }
            if (reader.Read())
                throw new PruningRecipeException($"{name}: line {Line}: unexpected {Describe()} after the recipe's closing brace.", name, Line, null);
            return recipe;
        }

        private PruningRecipe ReadTargets(PruningRecipe recipe)
        {
            Expect(JsonTokenType.StartObject, "targets", "an object { \"opTypes\": [...], \"include\": [...], \"exclude\": [...] }");
            var seen = new HashSet<string>();
            while (true)
            {
                Next();
                if (reader.TokenType == JsonTokenType.EndObject) return recipe;
                var field = "targets." + reader.GetString();
                if (!TargetFields.Contains(field["targets.".Length..]))
                    throw Error(field, $"unknown field; the fields of targets are: {string.Join(", ", TargetFields)}.");
                if (!seen.Add(field)) throw Error(field, "given twice.");
                Next();
                lines[field] = Line;
                var list = StringList(field);
                recipe = field switch
                {
                    "targets.opTypes" => recipe with { OpTypes = list },
                    "targets.include" => recipe with { Include = list },
                    _ => recipe with { Exclude = list },
                };
            }
        }

        private StructuredRecipe ReadStructured()
        {
            Expect(JsonTokenType.StartObject, "structured", "an object { \"heads\": 0.25, \"neurons\": 0.25, \"layers\": 0 }");
            var structured = new StructuredRecipe();
            var seen = new HashSet<string>();
            while (true)
            {
                Next();
                if (reader.TokenType == JsonTokenType.EndObject) return structured;
                var field = "structured." + reader.GetString();
                if (!StructuredFields.Contains(field["structured.".Length..]))
                    throw Error(field, $"unknown field; the fields of structured are: {string.Join(", ", StructuredFields)}.");
                if (!seen.Add(field)) throw Error(field, "given twice.");
                Next();
                lines[field] = Line;
                structured = field switch
                {
                    "structured.heads" => structured with { Heads = Number(field) },
                    "structured.neurons" => structured with { Neurons = Number(field) },
                    _ => structured with { Layers = Integer(field) },
                };
            }
        }

        private List<KeyValuePair<string, double>> ReadOverrides()
        {
            Expect(JsonTokenType.StartObject, "layerSparsity", "an object of weight name → sparsity, e.g. { \"927\": 0.5 }");
            var overrides = new List<KeyValuePair<string, double>>();
            while (true)
            {
                Next();
                if (reader.TokenType == JsonTokenType.EndObject) return overrides;
                var weight = reader.GetString()!;
                var field = "layerSparsity." + weight;
                if (overrides.Any(o => o.Key == weight)) throw Error(field, "given twice.");
                Next();
                lines[field] = Line;
                overrides.Add(new(weight, Number(field)));
            }
        }

        private List<string> StringList(string field)
        {
            // A single string is taken as a list of one, as a repeated flag given once.
            if (reader.TokenType == JsonTokenType.String) return [NonEmpty(field)];
            Expect(JsonTokenType.StartArray, field, "a list of strings");
            var list = new List<string>();
            while (true)
            {
                Next();
                if (reader.TokenType == JsonTokenType.EndArray) return list;
                list.Add(NonEmpty($"{field}[{list.Count}]"));
            }
        }

        private string String(string field)
        {
            Expect(JsonTokenType.String, field, "a string");
            return reader.GetString()!;
        }

        private string NonEmpty(string field)
        {
            var value = String(field);
            return value.Length > 0 ? value : throw Error(field, "must not be empty.");
        }

        private double Number(string field)
        {
            Expect(JsonTokenType.Number, field, "a number");
            return reader.GetDouble();
        }

        private int Integer(string field)
        {
            Expect(JsonTokenType.Number, field, "an integer");
            return reader.TryGetInt32(out var value) ? value : throw Error(field, $"expected an integer (32-bit), got {Encoding.UTF8.GetString(reader.ValueSpan)}.");
        }

        private void Expect(JsonTokenType type, string field, string expected)
        {
            if (reader.TokenType != type) throw Error(field, $"expected {expected}, got {Describe()}.");
        }

        private string Describe() => reader.TokenType switch
        {
            JsonTokenType.String => $"the string \"{reader.GetString()}\"",
            JsonTokenType.Number => "the number " + Encoding.UTF8.GetString(reader.ValueSpan),
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "a list",
            _ => reader.TokenType.ToString(),
        };

        private void Next()
        {
            if (!reader.Read())
                throw new PruningRecipeException($"{name}: line {1 + bytes.AsSpan().Count((byte)'\n')}: the recipe ends too early (incomplete JSON).", name, null, null);
        }
    }
}

/// <summary>A recipe's structured part: fractions of each layer's heads and neurons, and a number of layers, to remove.</summary>
public sealed record StructuredRecipe(double Heads = 0, double Neurons = 0, int Layers = 0);

/// <summary>A recipe that cannot be read; <see cref="Line"/> and <see cref="Field"/> say where, when known.</summary>
public sealed class PruningRecipeException(string message, string? path, int? line, string? field) : FormatException(message)
{
    /// <summary>The recipe file, when known.</summary>
    public string? RecipePath { get; } = path;

    /// <summary>The 1-based line at fault, when known.</summary>
    public int? Line { get; } = line;

    /// <summary>The field at fault, when known.</summary>
    public string? Field { get; } = field;
}
