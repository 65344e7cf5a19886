using Sparrow.Data.Evaluation.Tasks;

namespace Sparrow.Data.Tests.Tasks;

public sealed class LogisticRegressionTests
{
    /// <summary>Gaussian blobs, one per class, around centres <paramref name="separation"/> apart along their own axis.</summary>
    private static (float[][] X, int[] Y) Blobs(int classes, int perClass, int dim, double separation, int seed)
    {
        var random = new Random(seed);
        var x = new List<float[]>();
        var y = new List<int>();
        for (var c = 0; c < classes; c++)
        {
            for (var i = 0; i < perClass; i++)
            {
                var row = new float[dim];
                for (var j = 0; j < dim; j++) row[j] = (float)Normal(random);
                row[c % dim] += (float)separation;
                x.Add(row);
                y.Add(c);
            }
        }
        return (x.ToArray(), y.ToArray());
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    [Fact]
    public void Separable_classes_are_all_classified_right()
    {
        var (trainX, trainY) = Blobs(classes: 4, perClass: 60, dim: 16, separation: 12, seed: 1);
        var (testX, testY) = Blobs(classes: 4, perClass: 40, dim: 16, separation: 12, seed: 2);
        var model = LogisticRegression.Fit(trainX, trainY, 4, l2: 1e-3);
        Assert.Equal(1.0, model.Accuracy(trainX, trainY));
        Assert.Equal(1.0, model.Accuracy(testX, testY));
        Assert.True(model.GradientNorm < 1e-5, $"not converged: gradient {model.GradientNorm} after {model.Iterations} iterations");
    }

    [Fact]
    public void Log_loss_is_the_mean_negative_log_probability_of_the_labels()
    {
        var (x, y) = Blobs(classes: 3, perClass: 50, dim: 4, separation: 2, seed: 11);
        var model = LogisticRegression.Fit(x, y, 3, l2: 1e-2);
        var expected = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            var scores = model.Scores(x[i]);
            expected -= Math.Log(Math.Exp(scores[y[i]]) / scores.Sum(Math.Exp));
        }
        Assert.Equal(expected / x.Length, model.LogLoss(x, y), 1e-9);
        // Wrong labels cost more than the right ones, and no items is an error.
        Assert.True(model.LogLoss(x, y.Select(c => (c + 1) % 3).ToArray()) > model.LogLoss(x, y) + 1);
        Assert.Throws<ArgumentException>(() => model.LogLoss([], []));
    }

    [Fact]
    public void Overlapping_classes_score_between_chance_and_perfect()
    {
        var (trainX, trainY) = Blobs(classes: 3, perClass: 200, dim: 8, separation: 1.5, seed: 3);
        var (testX, testY) = Blobs(classes: 3, perClass: 200, dim: 8, separation: 1.5, seed: 4);
        var accuracy = LogisticRegression.Fit(trainX, trainY, 3, l2: 1e-2).Accuracy(testX, testY);
        // Three centres 1.5·√2 apart in unit noise: the best rule gets about 70 % right.
        Assert.InRange(accuracy, 0.6, 0.8);
    }

    [Fact]
    public void A_one_feature_problem_reaches_its_known_optimum()
    {
        // x = −1 (class 0) and x = +1 (class 1); standardising keeps ±1. By symmetry the biases are equal and the weights
        // opposite, so the optimum's score gap d = w1 − w0 solves d/dd [log(1 + e^(−d)) + λd²/4] = 0.
        const double l2 = 0.5;
        var model = LogisticRegression.Fit([[-1f], [1f]], [0, 1], 2, l2, tolerance: 1e-10);
        double low = 0, high = 20;
        for (var i = 0; i < 200; i++)
        {
            var mid = (low + high) / 2;
            if (-1 / (1 + Math.Exp(mid)) + l2 * mid / 2 < 0) low = mid; else high = mid;
        }
        var scores = model.Scores([1f]);
        Assert.Equal(low, scores[1] - scores[0], 6);
        var negative = model.Scores([-1f]);
        Assert.Equal(-low, negative[1] - negative[0], 6);
        Assert.Equal(1, model.Predict([0.3f]));
        Assert.Equal(0, model.Predict([-0.3f]));
    }

    [Fact]
    public void Fits_are_deterministic()
    {
        var (x, y) = Blobs(classes: 5, perClass: 50, dim: 12, separation: 2, seed: 5);
        var first = LogisticRegression.Fit(x, y, 5, l2: 1e-2);
        var second = LogisticRegression.Fit(x, y, 5, l2: 1e-2);
        Assert.Equal(first.Iterations, second.Iterations);
        Assert.All(x, row => Assert.Equal(first.Scores(row), second.Scores(row)));
    }

    [Fact]
    public void Stronger_regularisation_gives_smaller_scores()
    {
        var (x, y) = Blobs(classes: 2, perClass: 50, dim: 4, separation: 3, seed: 6);
        double Spread(double l2) => x.Average(row => LogisticRegression.Fit(x, y, 2, l2).Scores(row) is var s ? Math.Abs(s[1] - s[0]) : 0);
        Assert.True(Spread(1.0) < Spread(0.01));
    }

    [Fact]
    public void Bad_inputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([], [], 2));
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([[1f]], [0, 1], 2));
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([[1f], [2f]], [0, 2], 2));
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([[1f], [2f, 3f]], [0, 1], 2));
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit([[1f], [2f]], [0, 1], 2).Predict([1f, 2f]));
    }
}
