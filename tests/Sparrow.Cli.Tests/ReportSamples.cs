using System.Globalization;

namespace Sparrow.Cli.Tests;

/// <summary>Hand-written result files in the shapes bench, eval and sensitivity write, for the report tests.</summary>
internal static class ReportSamples
{
    /// <summary>bench of dense.onnx, m50.onnx and m90.onnx (paths relative to where bench ran: "models/"), at b1 s32 and b8 s32.</summary>
    public static string Bench(bool energy) => $$"""
        {
          "command": "sparrow bench models/dense.onnx models/m50.onnx models/m90.onnx --json bench.json",
          "measuredUtc": "2026-11-28T10:00:00Z",
          "machine": { "cpu": "Test CPU 9000", "logicalCores": 2, "vectorIsa": "AVX-512", "runtime": ".NET 10", "onnxRuntime": "1.31.1", "threads": 2 },
          "warmup": 30,
          "runs": 20,{{EnergySettings(energy)}}
          "models": [
            { "label": "dense.onnx", "path": "models/dense.onnx", "initializerBytes": 90000000, "sessionWeightBytes": 90000000, "kernelChoices": { "'a' (Linear)": "Dense", "'b' (Linear)": "Dense" } },
            { "label": "m50.onnx", "path": "models/m50.onnx", "initializerBytes": 90000000, "sessionWeightBytes": 60000000, "kernelChoices": { "'a' (Linear)": "CSR", "'b' (Linear)": "Dense" } },
            { "label": "m90.onnx", "path": "models/m90.onnx", "initializerBytes": 90000000, "sessionWeightBytes": 20000000, "kernelChoices": { "'a' (Linear)": "CSR", "'b' (Linear)": "CSR" }, "someFutureField": [1, 2] }
          ],
          "results": [
            {{Row("dense.onnx", 1, 10.0, 11.0, 11.0, energy ? 0.50 : null)}},
            {{Row("m50.onnx", 1, 8.0, 11.5, 11.0, energy ? 0.40 : null)}},
            {{Row("m90.onnx", 1, 4.0, 11.2, 11.0, energy ? 0.20 : null)}},
            {{Row("dense.onnx", 8, 40.0, 42.0, 42.0, energy ? 0.25 : null)}},
            {{Row("m50.onnx", 8, 50.0, 43.0, 42.0, energy ? 0.30 : null)}},
            {{Row("m90.onnx", 8, 20.0, 41.0, 42.0, energy ? 0.12 : null)}}
          ]
        }
        """;

    // Bench's top-level energy block: how energy was measured and priced, once per file.
    private static string EnergySettings(bool energy) => energy
        ? """ "energy": { "energyMethod": "estimate", "estimated": true, "description": "CPU time x 10 W per core", "region": "world", "gramsPerKwh": 475, "pue": 1.0, "pricePerKwh": 0.3, "currency": "EUR" },"""
        : "";

    internal static string Row(string model, int batch, double sparrow, double ort, double baselineOrt, double? joules)
    {
        var energy = joules is { } j
            ? string.Create(CultureInfo.InvariantCulture, $$""", "sparrowEnergy": { "energyJoulesPerInference": {{j}}, "inferencesPerJoule": {{1 / j}}, "gCO2ePerMillion": {{j * 1e6 / 3.6e6 * 475}}, "costPerMillion": {{j * 1e6 / 3.6e6 * 0.3}}, "energyMethod": "estimate", "estimated": true, "cpuSecondsPerInference": {{j / 10}} }, "ortEnergy": { "energyJoulesPerInference": {{j * 1.1}}, "inferencesPerJoule": {{1 / (j * 1.1)}}, "energyMethod": "estimate", "estimated": true } """)
            : "";
        return string.Create(CultureInfo.InvariantCulture, $$"""
            { "batch": {{batch}}, "sequence": 32, "model": "{{model}}", "sparrowMs": { "median": {{sparrow}}, "p25": {{sparrow * 0.98}}, "p75": {{sparrow * 1.03}}, "min": {{sparrow * 0.95}} },
              "ortMs": { "median": {{ort}}, "p25": {{ort * 0.98}}, "p75": {{ort * 1.02}}, "min": {{ort * 0.97}} }, "flops": 689209344,
              "sparrowOverOrt": {{sparrow / ort}}, "sparrowOverBaselineOrt": {{sparrow / baselineOrt}}{{energy}} }
            """);
    }

    /// <summary>eval of models/m50.onnx and models/m90.onnx against the embedded model, with one task.</summary>
    public const string Eval = """
        {
          "command": "sparrow eval models/m50.onnx models/m90.onnx --task spam --json eval.json",
          "reference": "all-MiniLM-L6-v2 (embedded)",
          "tasks": [ { "name": "spam", "classes": ["ham", "spam"], "trainItems": 20, "testItems": 20, "maxTokens": 128 } ],
          "results": [
            { "model": "all-MiniLM-L6-v2 (embedded)", "meanCosine": 1, "minCosine": 1, "sentences": 64, "isReference": true,
              "tasks": [ { "task": "spam", "accuracy": 0.9, "standardError": 0.05 } ], "versusReference": [] },
            { "model": "models/m50.onnx", "meanCosine": 0.95, "minCosine": 0.9, "sentences": 64, "isReference": false,
              "tasks": [ { "task": "spam", "accuracy": 0.85, "standardError": 0.06 } ], "versusReference": [ { "task": "spam", "difference": -0.05, "standardError": 0.03 } ] },
            { "model": "models/m90.onnx", "meanCosine": 0.6, "minCosine": 0.4, "sentences": 64, "isReference": false,
              "tasks": [ { "task": "spam", "accuracy": 0.7, "standardError": 0.08 } ], "versusReference": [ { "task": "spam", "difference": -0.2, "standardError": 0.07 } ] }
          ]
        }
        """;

    public const string Sensitivity = """
        {
          "command": "sparrow sensitivity --sparsities 0.5,0.9 --json sens.json",
          "model": "all-MiniLM-L6-v2 (embedded)",
          "method": "magnitude",
          "quality": "embedding",
          "sparsities": [0.5, 0.9],
          "seconds": 3.2,
          "layers": [
            { "weight": "927", "label": "layer 0 query", "opType": "MatMul", "shape": [384, 384], "parameters": 147456, "losses": [0.0004, 0.006] },
            { "weight": "928", "label": "layer 0 key", "opType": "MatMul", "shape": [384, 384], "parameters": 147456, "losses": [0.0003, 0.005] },
            { "weight": "931", "label": "layer 0 ffn up", "opType": "MatMul", "shape": [384, 1536], "parameters": 589824, "losses": [0.02, 0.11] }
          ],
          "allocation": null
        }
        """;

    /// <summary>Writes bench.json, eval.json and sens.json into <paramref name="folder"/>; returns their paths.</summary>
    public static (string Bench, string Eval, string Sensitivity) WriteAll(TempDirectory folder, bool energy)
    {
        var bench = folder.File("bench.json");
        var eval = folder.File("eval.json");
        var sensitivity = folder.File("sens.json");
        File.WriteAllText(bench, Bench(energy));
        File.WriteAllText(eval, Eval);
        File.WriteAllText(sensitivity, Sensitivity);
        return (bench, eval, sensitivity);
    }
}
