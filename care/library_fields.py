"""Reading the education library's files: typed fields, and errors that name the file and the entry.

Owns `LibraryError` and `Reader`, used by `care.library`. Must not import anything outside the standard
library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["LibraryError", "Reader"]


class LibraryError(ValueError):
    """A library that cannot be used, naming the file and the entry at fault."""

    def __init__(self, source: str, entry: str, problem: str) -> None:
        super().__init__(f"education library {source}: {entry}: {problem}")
        self.source, self.entry, self.problem = source, entry, problem


class Reader:
    """Typed access to a parsed file, naming the file and the entry in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, entry: str, problem: str) -> LibraryError:
        return LibraryError(self.source, entry, problem)

    def keys(self, table: Mapping[str, Any], known: set[str], entry: str) -> None:
        unknown = sorted(set(table) - known)
        if unknown:
            raise self.fail(entry, f"unknown fields {unknown} (known: {', '.join(sorted(known))})")

    def value(self, table: Mapping[str, Any], key: str, kind: type, entry: str) -> Any:
        value = table.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
            raise self.fail(f"{entry}.{key}", f"must be a {kind.__name__}")
        return value

    def table(self, table: Mapping[str, Any], key: str, entry: str) -> Mapping[str, Any]:
        return self.value(table, key, dict, entry)  # type: ignore[no-any-return]

    def strings(self, table: Mapping[str, Any], key: str, entry: str, required: bool = True) -> list[str]:
        value = table.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(f"{entry}.{key}", "must be a list of non-empty strings")
        if required and not value:
            raise self.fail(f"{entry}.{key}", "must not be empty")
        return value

    def per_language(self, table: Mapping[str, Any], languages: Sequence[str], entry: str) -> dict[str, str]:
        self.keys(table, set(languages), entry)
        texts = {lang: self.value(table, lang, str, entry).strip() for lang in languages}
        for lang, text in texts.items():
            if not text:
                raise self.fail(f"{entry}.{lang}", "must not be blank")
        return texts
