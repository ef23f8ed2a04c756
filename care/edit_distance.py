"""Typo tolerance shared by triage and the education library: edit distance and single-deletion keys."""

from __future__ import annotations


def deletes(word: str) -> set[str]:
    """Returns `word` and every string one deleted letter away (keys for a symmetric-delete index)."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def osa(a: str, b: str) -> int:
    """Returns the optimal string alignment distance (a swap of neighbours counts as one edit)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]
