"""Reading an import CSV as a stream of records, each with the line it starts on.

Spreadsheets write CSV in more than one way: UTF-8 with or without a byte order mark, ``,`` or
``;`` (``;`` where the decimal separator is a comma), sometimes tabs. The delimiter is chosen by
the header: the one that splits it into the most known column names. Lines are decoded one by
one, so a line that is not UTF-8 rejects only its own record instead of ending the import.
Nothing but the current record is held in memory.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from bot.core.history import COLUMNS, REQUIRED

DELIMITERS: Final = (",", ";", "\t")
_BOM: Final = b"\xef\xbb\xbf"


class HeaderError(ValueError):
    """The file cannot be imported at all: no header, or a required column missing."""


@dataclass(frozen=True, slots=True)
class Record:
    """One record of the file: its fields by column, or why it cannot be read."""

    line: int  # where it starts; the header is line 1 in a file that starts with it
    values: list[str]
    fields: dict[str, str] | None = None
    error: str | None = None


class _Lines:
    """The file's lines as text, counting them and remembering whether one was not UTF-8."""

    def __init__(self, binary: Iterable[bytes]) -> None:
        self._source = iter(binary)
        self.count = 0
        self.undecodable = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = next(self._source)
        self.count += 1
        if self.count == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.undecodable = True
            return raw.decode("utf-8", errors="replace")


def _header_names(line: str, delimiter: str) -> list[str]:
    return [name.strip().lower() for name in next(csv.reader([line], delimiter=delimiter), [])]


def _choose_delimiter(line: str) -> tuple[str, list[str]]:
    """The delimiter that makes the most known column names of the header line."""
    best = max(DELIMITERS, key=lambda d: sum(name in COLUMNS for name in _header_names(line, d)))
    return best, _header_names(line, best)


def _check_header(names: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        found = ", ".join(name for name in names if name) or "nothing"
        raise HeaderError(
            f"the header has no {', '.join(missing)} column"
            f"{'s' if len(missing) > 1 else ''} (found: {found}); "
            f"required: {', '.join(REQUIRED)}; optional: "
            f"{', '.join(name for name in COLUMNS if name not in REQUIRED)}"
        )
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise HeaderError(f"the header names {', '.join(repeated)} more than once")


@dataclass(slots=True)
class CsvSource:
    """An import file opened for reading: its header checked, its records to come."""

    header: list[str]
    delimiter: str
    ignored: list[str]  # columns of the file that the import does not know
    _lines: _Lines
    _reader: Iterator[list[str]]

    @classmethod
    def open(cls, binary: Iterable[bytes]) -> CsvSource:
        """Read and check the header; raises ``HeaderError``."""
        lines = _Lines(binary)
        for line in lines:
            if line.strip():
                break
        else:
            raise HeaderError("the file is empty: it needs a header line")
        if lines.undecodable:
            raise HeaderError("the header is not UTF-8: save the file as UTF-8 (CSV UTF-8)")
        delimiter, names = _choose_delimiter(line)
        _check_header(names)
        ignored = [name for name in names if name and name not in COLUMNS]
        return cls(names, delimiter, ignored, lines, csv.reader(lines, delimiter=delimiter))

    @property
    def lines_read(self) -> int:
        """Physical lines read so far, the header included."""
        return self._lines.count

    def __iter__(self) -> Iterator[Record]:
        return self

    def __next__(self) -> Record:
        while True:
            start = self._lines.count + 1
            self._lines.undecodable = False
            try:
                values = next(self._reader)
            except csv.Error as error:
                return Record(start, [], error=f"cannot be read as CSV ({error})")
            if not any(value.strip() for value in values):
                continue  # a blank line
            return self._record(start, values)

    def _record(self, start: int, values: list[str]) -> Record:
        if self._lines.undecodable:
            return Record(start, values, error="is not valid UTF-8")
        if len(values) > len(self.header):
            return Record(
                start,
                values,
                error=f"has {len(values)} fields, the header has {len(self.header)}",
            )
        # A spreadsheet may leave out trailing empty fields: the missing ones are empty.
        padded = values + [""] * (len(self.header) - len(values))
        fields = {
            name: value for name, value in zip(self.header, padded, strict=True) if name in COLUMNS
        }
        return Record(start, values, fields=fields)
