namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>A data set's files are not where they were looked for; the message says where and how to install them.</summary>
public sealed class DatasetNotFoundException : Exception
{
    /// <summary>A task's data set is not where it was looked for; <paramref name="message"/> says where, and how to install it.</summary>
    public DatasetNotFoundException(string message) : base(message)
    {
    }

    /// <summary>As <see cref="DatasetNotFoundException(string)"/>, keeping the error that caused it.</summary>
    public DatasetNotFoundException(string message, Exception inner) : base(message, inner)
    {
    }

    internal static DatasetNotFoundException Missing(string dataset, string path, string what) =>
        new($"The {dataset} data set is not installed: {path} {what}. Run scripts/install-datasets.sh "
            + $"(it installs into {TaskData.DefaultDirectory} or $SPARROW_DATA_DIR), or point --data at a folder that holds it.");
}
