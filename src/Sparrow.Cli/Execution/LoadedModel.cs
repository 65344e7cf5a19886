using Sparrow.Data.Models;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;

namespace Sparrow.Cli.Execution;

/// <summary>A model read from a file, or the embedded default model when no path is given.</summary>
internal sealed class LoadedModel
{
    private LoadedModel(Model model, string displayName, string? path)
    {
        Model = model;
        DisplayName = displayName;
        Path = path;
    }

    public Model Model { get; }

    /// <summary>How output names the model: its path, or the default model's name.</summary>
    public string DisplayName { get; }

    /// <summary>Null for the embedded model.</summary>
    public string? Path { get; }

    public bool IsEmbedded => Path is null;

    public static LoadedModel Load(string? path)
    {
        if (path is null) return new LoadedModel(OnnxImporter.Load(DefaultModel.OnnxBytes, sourceName: DefaultModel.Name), DefaultModel.Name + " (embedded)", null);
        if (Directory.Exists(path)) throw new UsageException($"{path} is a folder; give the path of an .onnx file.");
        return new LoadedModel(OnnxImporter.Load(path), path, path);
    }
}
