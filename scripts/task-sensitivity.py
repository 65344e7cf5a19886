#!/usr/bin/env python3
"""Task-aware per-layer sparsity allocation at 70% for MiniLM, without touching eval's task data
(BENCHMARKS.md, "Allocation at 70%, cross-validated over all items").

Dev task: 8 fortunes categories that `sparrow eval --task fortunes` never reads (it takes the 12 largest; texts that
are also eval items are left out);
quality = the 5-fold cross-validated log-loss of eval's logistic regression on them (`eval --folds 5 --per-class all`,
`logLoss` in --json). Starting from uniform 70% Wanda, each of the 6 transformer layers is set to 60% and to 80%
(every other layer at 70%); a quadratic through each layer's three points (60, 70, 80%) predicts its loss change;
the per-layer sparsities (steps of 1%, within [55%, 85%], the parameter-weighted mean exactly 70%) with the least
predicted total are chosen by dynamic programming and written as recipes for Wanda and SparseGPT, which are pruned.

  python3 scripts/task-sensitivity.py --sparrow PATH/sparrow --out DIR [--data ~/.cache/sparrow/datasets]
"""
import argparse, json, os, re, subprocess, sys

DEV_CATEGORIES = ["art", "disclaimer", "fortunes", "linux", "literature", "perl", "platitudes", "wisdom"]
TARGET, LOW, HIGH, STEP = 0.70, 0.55, 0.85, 0.01
PROBES = [0.6, 0.8]

def records(path):
    """The distinct records of a fortunes file, whitespace collapsed (as eval reads them)."""
    current = []
    for line in open(path, encoding="utf-8", errors="replace").read().split("\n"):
        if line.strip() == "%":  # a separator line, as FortunesTopics.ParseRecords reads it
            r = " ".join(" ".join(current).split())
            if r: yield r
            current = []
        else:
            current.append(line)
    r = " ".join(" ".join(current).split())
    if r: yield r

def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparrow", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/sparrow/datasets"))
    a = ap.parse_args()
    s, out = a.sparrow, os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)

    # 1. The dev task: the 8 categories, none of them among eval's 12, without any text that is also an eval item
    #    (a few records recur across categories). Written as new files (eval skips links).
    folder = os.path.join(a.data, "fortunes")
    files = sorted(f for f in os.listdir(folder) if not f.startswith(".") and not f.endswith((".dat", ".u8"))
                   and os.path.isfile(os.path.join(folder, f)) and not os.path.islink(os.path.join(folder, f)))
    by_category = {f: sorted(set(records(os.path.join(folder, f)))) for f in files}
    task = sorted(by_category, key=lambda c: (-len(by_category[c]), c))[:12]  # as FortunesTopics.Load picks them
    if set(task) & set(DEV_CATEGORIES): sys.exit(f"dev categories {sorted(set(task) & set(DEV_CATEGORIES))} are among eval's 12: {task}")
    task_texts = set(t for c in task for t in by_category[c])
    dev = p("devdata/fortunes")
    os.makedirs(dev, exist_ok=True)
    for c in DEV_CATEGORIES:
        kept = [t for t in by_category[c] if t not in task_texts]
        print(f"dev {c}: {len(kept)} records ({len(by_category[c]) - len(kept)} shared with eval's categories left out)")
        with open(os.path.join(dev, c), "w", encoding="utf-8") as f:
            f.write("\n%\n".join(kept) + "\n%\n")

    # 2. Which weight belongs to which transformer layer (labels "layer N query" ...), from a cheap sensitivity run.
    if not os.path.exists(p("layers.json")):
        run([s, "sensitivity", "--method", "magnitude", "--sparsities", "0.5", "--json", p("layers.json"), "-q"])
    weights = json.load(open(p("layers.json")))["layers"]
    layer_of, params = {}, {}
    for w in weights:
        m = re.match(r"layer (\d+) ", w["label"])
        if not m: sys.exit(f"unexpected weight label {w['label']!r}")
        layer_of[w["weight"]] = int(m.group(1))
        params[int(m.group(1))] = params.get(int(m.group(1)), 0) + w["parameters"]
    layers = sorted(params)
    if len(set(params.values())) != 1: sys.exit(f"layers differ in size {params}: the allocation below assumes equal ones")

    def recipe(method, per_layer, path):
        doc = {"method": method, "pattern": "unstructured", "sparsity": TARGET, "seed": 0,
               "layerSparsity": {w: per_layer.get(l, TARGET) for w, l in layer_of.items()}}
        json.dump(doc, open(path, "w"), indent=2)

    # 3. Uniform Wanda and the 12 probes, then one dev eval of all of them (each item paired across models).
    run([s, "prune", "--method", "wanda", "--sparsity", str(TARGET), "-o", p("wanda-70.onnx"), "-q"])
    probes = []
    for l in layers:
        for sp in PROBES:
            name = f"wanda-L{l}-{int(sp * 100)}"
            recipe("wanda", {l: sp}, p(name + ".json"))
            run([s, "prune", "--recipe", p(name + ".json"), "-o", p(name + ".onnx"), "-q"])
            probes.append((l, sp, name + ".onnx"))
    run([s, "eval", *[p(n) for _, _, n in probes], "--reference", p("wanda-70.onnx"), "--data", p("devdata"), "--task", "fortunes",
         "--folds", "5", "--per-class", "all", "--json", p("dev-eval.json")])
    doc = json.load(open(p("dev-eval.json")))
    loss = {os.path.basename(r["model"]): r["tasks"][0]["logLoss"] for r in doc["results"]}
    acc = {os.path.basename(r["model"]): r["tasks"][0]["accuracy"] for r in doc["results"]}
    base = loss["wanda-70.onnx"]

    # 4. Per layer, a quadratic through (60%, 70%, 80%) of the loss change; DP over 1% steps, mean exactly 70%.
    curves = {}
    for l in layers:
        lo, hi = loss[f"wanda-L{l}-60.onnx"] - base, loss[f"wanda-L{l}-80.onnx"] - base
        h = 0.1
        slope, curvature = (hi - lo) / (2 * h), (hi + lo) / (2 * h * h)  # f(x) = slope·x + curvature·x², x = s − 0.7
        curves[l] = (slope, curvature, lo, hi)
    grid = [round(LOW + i * STEP, 2) for i in range(int(round((HIGH - LOW) / STEP)) + 1)]
    units = lambda v: int(round(v / STEP))
    total = units(TARGET) * len(layers)
    predicted = lambda l, sp: curves[l][0] * (sp - TARGET) + curves[l][1] * (sp - TARGET) ** 2
    best = {0: (0.0, [])}  # units used so far -> (predicted loss, choices)
    for l in layers:
        nxt = {}
        for used, (cost, choice) in best.items():
            for sp in grid:
                key = used + units(sp)
                c = cost + predicted(l, sp)
                if key not in nxt or c < nxt[key][0] - 1e-15: nxt[key] = (c, choice + [sp])
        best = nxt
    cost, chosen = best[total]
    allocation = dict(zip(layers, chosen))

    print("\nlayer | loss 60% − 70% | loss 80% − 70% | acc 60% | acc 80% | chosen")
    for l in layers:
        print(f"{l} | {curves[l][2]:+.5f} | {curves[l][3]:+.5f} | {100*acc[f'wanda-L{l}-60.onnx']:.2f} | {100*acc[f'wanda-L{l}-80.onnx']:.2f} | {allocation[l]:.2f}")
    print(f"uniform dev log-loss {base:.5f}, accuracy {100*acc['wanda-70.onnx']:.2f}; predicted change {cost:+.5f}; mean sparsity {sum(chosen)/len(chosen):.4f}")
    json.dump({"devLogLossUniform": base, "curves": {str(l): {"slope": curves[l][0], "curvature": curves[l][1], "loss60": curves[l][2], "loss80": curves[l][3]} for l in layers},
               "allocation": {str(l): allocation[l] for l in layers}, "predictedChange": cost}, open(p("allocation.json"), "w"), indent=2)

    # 5. Recipes and the two models.
    for method in ["wanda", "sparsegpt"]:
        recipe(method, allocation, p(f"plan-task-{method}-70.json"))
        run([s, "prune", "--recipe", p(f"plan-task-{method}-70.json"), "-o", p(f"{method}-task70.onnx"), "-q"])

if __name__ == "__main__":
    main()
