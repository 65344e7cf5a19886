#!/usr/bin/env python3
"""Makes src/Sparrow.Data/Training/recovery-sentences.txt: the texts `sparrow recover` distils on by default.

Real English from Debian's `fortunes` package, taken only from categories that `sparrow eval --task fortunes`
never reads (it uses the 12 largest; they are excluded here, and so is any text that also appears in one of them),
so recovery never trains on an eval item. Seeded, so the file is reproducible:
    python3 scripts/make-recovery-sentences.py /usr/share/games/fortunes > src/Sparrow.Data/Training/recovery-sentences.txt
"""
import os, random, re, sys

folder = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/games/fortunes"
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2048
# Not prose (pictures, code, non-English) or too few records to matter.
skipped = {"art", "ascii-art", "translate-me", "perl", "debian", "linuxcookie", "disclaimer"}

def records(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    for r in re.split(r"\n%\n|^%\n", text, flags=re.M):
        r = " ".join(r.split())
        if r:
            yield r

files = sorted(f for f in os.listdir(folder)
               if os.path.isfile(os.path.join(folder, f)) and not f.endswith((".dat", ".u8")) and not os.path.islink(os.path.join(folder, f)))
by_category = {f: sorted(set(records(os.path.join(folder, f)))) for f in files}
# The tasks' categories: the 12 with the most distinct records (ties by name), as FortunesTopics.Load picks them.
task = sorted(by_category, key=lambda c: (-len(by_category[c]), c))[:12]
task_texts = set(t for c in task for t in by_category[c])
pool = []
for c in sorted(by_category):
    if c in task or c in skipped:
        continue
    for t in by_category[c]:
        words = t.split()
        letters = sum(ch.isalpha() or ch == " " for ch in t) / len(t)
        if t in task_texts or not (6 <= len(words) <= 60) or letters < 0.85 or t.startswith("#"):
            continue
        pool.append(t)
pool = sorted(set(pool))
random.Random(0).shuffle(pool)
print("# Texts `sparrow recover` distils on when no --data is given: records of Debian's fortunes package (fortune-mod 1.99.1,")
print("# BSD licence of the University of California) from categories that `sparrow eval --task fortunes` never reads:")
print("# " + ", ".join(c for c in sorted(by_category) if c not in task and c not in skipped) + ".")
print("# Made by scripts/make-recovery-sentences.py (seed 0); one text per line.")
for t in pool[:count]:
    print(t)
