#!/usr/bin/env python3
"""Attacks on encodings as the linkage unit could mount them, with the clear records to score them.

    pprl_attack.py ENCODINGS.csv CLEAR.csv [RECORDS]

ENCODINGS.csv is `puente link encode` output (id,clk: base64 of the balanced filter); CLEAR.csv the
same records in clear (record_id, given_names, first_surname, second_surname), used only to score
what the attacker found. The attacker sees the encodings alone and knows how often each letter pair
occurs in names (as from a public name list; here counted on the clear records themselves, the
strongest form of that knowledge). Three steps, each reported:

1. Undo the balancing. Each bit and its complement are anti-correlated across records whatever the
   secret permutation, so the pairs are found, and with them the filter before balancing and its
   number of bits set (which follows the length of the names).
2. Mine bit patterns (Christen et al.'s pattern-mining attack, greedily): bits that are set together
   in many records are the positions of one frequent letter pair. Each group found is scored by the
   Jaccard similarity of its records with those of the letter pair that fits it best.
3. Name the groups by frequency alignment: the group with the i-th largest support is taken for the
   i-th most frequent letter pair; how many are named right.

Needs numpy (the test venv, .venv-linkage, has it). Not part of scripts/test: it measures, and
docs/linkage.md reports what it found.
"""
import base64
import csv
import sys
import unicodedata
from collections import Counter

import numpy as np

encodings_file, clear_file = sys.argv[1], sys.argv[2]
limit = int(sys.argv[3]) if len(sys.argv) > 3 else 20_000
GROUPS = 15

ids, filters = [], []
with open(encodings_file, newline="") as f:
    for row in csv.DictReader(f):
        ids.append(row["id"])
        filters.append(np.frombuffer(base64.b64decode(row["clk"]), dtype=np.uint8))
        if len(ids) >= limit:
            break
X = np.unpackbits(np.stack(filters), axis=1).astype(np.float32)
n, bits = X.shape
share = X.mean(0)

# 1. Complements: the most anti-correlated bit of each bit.
centred = X - share
cov = centred.T @ centred / n
sd = np.sqrt(np.diag(cov)) + 1e-9
corr = cov / sd[:, None] / sd[None, :]
np.fill_diagonal(corr, 0)
partner = corr.argmin(1)
mutual = int(np.sum(partner[partner] == np.arange(bits)))
positions = sorted({b if share[b] < share[partner[b]] else int(partner[b]) for b in range(bits)})
B = X[:, positions]


def fold(text):
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn").lower()
    return " ".join("".join(c if c.isalpha() else " " for c in text).split())


def pairs(text):
    out = set()
    for word in fold(text).split():
        word = f" {word} "
        out |= {word[i:i + 2] for i in range(len(word) - 1)}
    return out


with open(clear_file, newline="", encoding="utf-8") as f:
    clear = {r["record_id"]: r for r in csv.DictReader(f)}
tokens, lengths = [], []
for i in ids:
    r = clear[i]
    surnames = f"{r['first_surname']} {r['second_surname']}"
    tokens.append({("given", p) for p in pairs(r["given_names"])} | {("surname", p) for p in pairs(surnames)})
    lengths.append(len(fold(r["given_names"])) + len(fold(surnames)))
length_corr = float(np.corrcoef(B.sum(1), np.array(lengths))[0, 1])
balanced_corr = float(np.corrcoef(X.sum(1), np.array(lengths))[0, 1]) if X.sum(1).std() > 0 else 0.0
print(f"{n} encodings of {bits} bits")
print(f"1. complement pairs found: {mutual} of {bits} bits (mean correlation {np.mean(corr[np.arange(bits), partner]):.3f});"
      f" bits set vs name length: {balanced_corr:.2f} as sent, {length_corr:.2f} after undoing the balance")

# 2. Groups: start from the pair of bits most often set together beyond chance, add the bit that keeps
# the most records with every bit of the group set, stop when a tenth of bits-per-token would lose 20 %.
together = B.T @ B / n
excess = together - np.outer(B.mean(0), B.mean(0))
np.fill_diagonal(excess, -1)
used = np.zeros(len(positions), bool)
frequency = Counter(t for ts in tokens for t in ts)
top = [t for t, _ in frequency.most_common(60)]
holders = {t: np.array([t in ts for ts in tokens]) for t in top}
found = []
for _ in range(GROUPS):
    e = excess.copy()
    e[used, :] = -1
    e[:, used] = -1
    a, b = np.unravel_index(np.argmax(e), e.shape)
    group, common = [int(a), int(b)], B[:, a] * B[:, b]
    while len(group) < 12:
        gain = common @ B / n
        gain[group] = -1
        gain[used] = -1
        d = int(np.argmax(gain))
        if gain[d] < 0.8 * common.mean():
            break
        group.append(d)
        common = common * B[:, d]
    used[group] = True
    records = common.astype(bool)
    best = max(top, key=lambda t: (records & holders[t]).sum() / max(1, (records | holders[t]).sum()))
    jaccard = (records & holders[best]).sum() / max(1, (records | holders[best]).sum())
    found.append((records.mean(), best, jaccard, len(group)))
good = sum(1 for _, _, j, _ in found if j >= 0.8)
print(f"2. groups mined: {len(found)}; with Jaccard >= 0.8 to one letter pair's records: {good};"
      f" best {max(j for *_, j, _ in found):.2f}, median {sorted(j for *_, j, _ in found)[len(found) // 2]:.2f}")
for support, best, jaccard, size in found:
    print(f"   {size:2d} bits, records {support:.3f}: fits {best[0]} '{best[1]}' (Jaccard {jaccard:.2f})")

# 3. Frequency alignment.
by_support = sorted(found, key=lambda g: -g[0])
named = sum(1 for k, g in enumerate(by_support) if g[2] >= 0.8 and g[1] == top[k])
print(f"3. groups named right by aligning support with letter-pair frequency: {named} of {len(found)}")
