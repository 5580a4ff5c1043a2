"""Dates as documents carry them: ISO prefixes ("2023", "2023-06", "2023-06-14"), sortable keys and ranges."""

from __future__ import annotations

import re
from datetime import date as _date

_TIME = r"(?:$|[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$)"
_ISO_DATE = re.compile(rf"(\d{{4}})(?:([-/.])(\d{{1,2}})(?:\2(\d{{1,2}}))?)?{_TIME}")
_DMY_DATE = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}){_TIME}")


def _valid(year: int, month: int | None, day: int | None) -> bool:
    if not 1000 <= year <= 2999:
        return False
    if month is None:
        return True
    if not 1 <= month <= 12:
        return False
    if day is None:
        return True
    try:
        _date(year, month, day)
    except ValueError:
        return False
    return True


def normalise_date(value: str | None) -> str | None:
    """ISO prefix "YYYY", "YYYY-MM" or "YYYY-MM-DD" from common date spellings; None if not a date.

    Accepts "2023", "2023-06", "2023-06-14", "2023-06-14T10:00:00Z", "2023/06/14", "14-06-2023", "14/06/2023".
    """
    if value is None:
        return None
    s = str(value).strip()
    m = _ISO_DATE.match(s)
    if m:
        year = int(m[1])
        month = int(m[3]) if m[3] else None
        day = int(m[4]) if m[4] else None
    else:
        m = _DMY_DATE.match(s)
        if not m:
            return None
        year, month, day = int(m[4]), int(m[3]), int(m[1])
    if not _valid(year, month, day):
        return None
    out = f"{year:04d}"
    if month is not None:
        out += f"-{month:02d}"
        if day is not None:
            out += f"-{day:02d}"
    return out


def date_sort_key(date: str | None) -> int | None:
    """Integer for range filters: "2023-06-14" -> 20230614, "2023-06" -> 20230600, "2023" -> 20230000."""
    iso = normalise_date(date)
    if iso is None:
        return None
    parts = [int(p) for p in iso.split("-")] + [0, 0]
    return parts[0] * 10000 + parts[1] * 100 + parts[2]


def date_bounds(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """Inclusive sort-key bounds of a date range: until "2023-06" -> 20230699 (so 2023-06-30 is included)."""
    low = date_sort_key(since) if since else None
    high = None
    if until:
        key = date_sort_key(until)
        if key is not None:
            year, month, day = key // 10000, key // 100 % 100, key % 100
            high = year * 10000 + (month or 99) * 100 + (day or 99)
    return low, high
