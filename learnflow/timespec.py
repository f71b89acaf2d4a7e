"""`--since` values: `2d`, `12h`, `1w`, `30m`, `today`, `yesterday`, ISO dates and times.

Shared by `reflect` and `gaps`. Everything returned is an aware UTC datetime,
because the log stores UTC; calendar words and bare dates are read in local
time, because that is the day the person lived.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from learnflow.errors import BadInput

_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Compiled on first use (re's cache), not at import: every `lf` run imports this module, few parse a duration.
_DURATION = r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$"
EXAMPLES = "2d, 12h, 1w, 30m, today, yesterday, 2024-06-03 or 2024-06-03T09:00"


def local_midnight(now: datetime | None = None) -> datetime:
    """Start of the local calendar day containing `now`, as UTC."""
    local = (now or datetime.now(UTC)).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def parse_since(value: str, *, now: datetime | None = None, option: str = "--since") -> datetime:
    """The moment `value` points back to. Raises BadInput with examples when it means nothing."""
    now = now or datetime.now(UTC)
    text = (value or "").strip()
    word = text.lower()
    if word == "today":
        return local_midnight(now)
    if word == "yesterday":
        return local_midnight(local_midnight(now) - timedelta(hours=1))
    m = re.match(_DURATION, text, re.I)
    if m:
        amount = float(m.group(1))
        if amount <= 0:
            raise BadInput(f"{option} {value!r} is not a length of time.", hint=f"Use a positive amount: {EXAMPLES}.")
        try:
            return now - timedelta(**{_UNITS[m.group(2).lower()]: amount})
        except OverflowError:
            raise BadInput(f"{option} {value!r} reaches back before the calendar starts.") from None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{option} {value!r} is not a time I can read.", hint=f"Examples: {EXAMPLES}.") from None
    try:
        if parsed.tzinfo is None:
            parsed = parsed.astimezone()  # a date or time as typed is local time
        parsed = parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # 0001-01-01 in a zone east of UTC falls off the calendar
        raise BadInput(f"{option} {value!r} is too close to the start of the calendar.", hint=f"Examples: {EXAMPLES}.") from None
    if parsed > now:
        raise BadInput(f"{option} {value!r} is in the future.", hint="Give a moment in the past, e.g. 2d or yesterday.")
    return parsed


def iso(moment: datetime, *, timespec: str = "milliseconds") -> str:
    """The log's own timestamp format (UTC, milliseconds, `Z`), so string comparison in SQL is ordering.

    `timespec="seconds"` is the shorter form reports show."""
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def now_iso() -> str:
    """This moment in the log's format."""
    return iso(datetime.now(UTC))


def iso_ts(ts: float, *, timespec: str = "milliseconds") -> str:
    """A Unix timestamp in the log's format."""
    return iso(datetime.fromtimestamp(ts, UTC), timespec=timespec)


def day_ts(ts: float) -> str:
    """The UTC date of a Unix timestamp, YYYY-MM-DD."""
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def parse_iso(value: str) -> datetime:
    """Read a timestamp written by `iso`."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def ago(value: str, *, now: datetime | None = None) -> str:
    """How long ago a timestamp written by `iso` was, in words: "12 minutes ago", "yesterday", "5 days ago"."""
    now = now or datetime.now(UTC)
    then = parse_iso(value)
    seconds = max(0.0, (now - then).total_seconds())
    if seconds < 90:
        return "just now"
    if seconds < 3600:
        return f"{round(seconds / 60)} minutes ago"
    days = (local_midnight(now).date() - then.astimezone().date()).days
    if days <= 0:
        hours = round(seconds / 3600)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return "yesterday" if days == 1 else f"{days} days ago"
