#!/usr/bin/env python3
"""Paired OWL-vs-uniform differences per split seed from `sparrow eval --json` files (per-item test results):
`python3 scripts/owl-split-seeds.py eval-seed1.json eval-seed2.json ...` (see BENCHMARKS.md, OWL across split seeds)."""
import json, math, sys

PAIRS = [("wanda-owl70.onnx", "wanda-70.onnx"), ("sparsegpt-owl70.onnx", "sparsegpt-70.onnx")]

def paired(a, b):
    n = len(a); assert n == len(b)
    only_a = sum(1 for x, y in zip(a, b) if x == '1' and y == '0')
    only_b = sum(1 for x, y in zip(a, b) if x == '0' and y == '1')
    gap = only_a - only_b
    return gap / n, math.sqrt(max(0, only_a + only_b - gap * gap / n)) / n

rows = {}
for path in sys.argv[1:]:
    doc = json.load(open(path))
    seed = doc["tasks"][0].get("splitSeed", 0)
    by = {r["model"]: r for r in doc["results"]}
    for task in [t["name"] for t in doc["tasks"]]:
        for owl, uni in PAIRS:
            a = by[owl]["testItemsCorrect"][task]; b = by[uni]["testItemsCorrect"][task]
            d, se = paired(a, b)
            acc = lambda s: 100 * s.count('1') / len(s)
            rows.setdefault((task, owl), []).append((seed, acc(b), acc(a), 100 * d, 100 * se))
for (task, owl), rs in rows.items():
    print(f"## {task} {owl}")
    for seed, u, o, d, se in rs:
        print(f"seed {seed}: uniform {u:.2f} owl {o:.2f} diff {d:+.2f} ± {se:.2f} ({d/se if se else 0:+.1f} SE)")
    new = [r for r in rs if r[0] != 0]
    if new:
        m = sum(r[3] for r in new) / len(new)
        # Approximate pooled SE as if the seeds were independent (they are not: the splits overlap).
        se = math.sqrt(sum(r[4] ** 2 for r in new)) / len(new)
        # Fully correlated seeds (identical test sets) would leave the mean's SE at the mean single-seed SE: the upper bound.
        se_hi = sum(r[4] for r in new) / len(new)
        pos = sum(1 for r in new if r[3] > 0)
        print(f"new seeds {[r[0] for r in new]}: mean diff {m:+.2f}, SE between {se:.2f} (seeds independent) and {se_hi:.2f} (seeds identical), {pos}/{len(new)} positive")
