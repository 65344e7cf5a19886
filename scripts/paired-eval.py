#!/usr/bin/env python3
"""Paired accuracy differences between models of `sparrow eval --json` files, from their per-item results:
`python3 scripts/paired-eval.py A.onnx:B.onnx [C.onnx:D.onnx ...] -- eval1.json [eval2.json ...]` prints A − B per task
(± the paired standard error, as eval computes it). A model found in several files must have the same per-item
results in each, and every file must describe each task alike (split seed, folds, sample, class sizes), so that pairing
across files is valid; the script checks both."""
import json, math, os, sys

def paired(a, b):
    n = len(a)
    if n != len(b): sys.exit(f"different item counts ({n}, {len(b)}); not pairable")
    only_a = sum(1 for x, y in zip(a, b) if x == '1' and y == '0')
    only_b = sum(1 for x, y in zip(a, b) if x == '0' and y == '1')
    gap = only_a - only_b
    return gap / n, math.sqrt(max(0, only_a + only_b - gap * gap / n)) / n

sep = sys.argv.index("--")
pairs = [x.split(":") for x in sys.argv[1:sep]]
items, setups = {}, {}
for path in sys.argv[sep + 1:]:
    doc = json.load(open(path))
    for t in doc["tasks"]:
        # The items and folds a task's per-item results refer to: runs that differ here cannot be paired item by item.
        setup = {k: t.get(k) for k in ("classes", "testItems", "splitSeed", "folds", "perClass", "classCounts")}
        if t["name"] in setups and setups[t["name"]][1] != setup:
            sys.exit(f"task {t['name']}: {path} and {setups[t['name']][0]} differ in {setup} vs {setups[t['name']][1]}; not pairable")
        setups.setdefault(t["name"], (path, setup))
    for r in doc["results"]:
        name = os.path.basename(r["model"])
        for task, bits in r["testItemsCorrect"].items():
            if (name, task) in items and items[(name, task)] != bits:
                sys.exit(f"{name} {task}: different per-item results in {path}; not pairable")
            items[(name, task)] = bits
tasks = sorted({t for _, t in items})
for a, b in pairs:
    for t in tasks:
        if (a, t) not in items or (b, t) not in items: continue
        d, se = paired(items[(a, t)], items[(b, t)])
        acc = lambda bits: 100 * bits.count('1') / len(bits)
        print(f"{t}: {a} {acc(items[(a, t)]):.2f} − {b} {acc(items[(b, t)]):.2f} = {100*d:+.2f} ± {100*se:.2f} ({d/se if se else 0:+.2f} SE), n = {len(items[(a, t)])}")
