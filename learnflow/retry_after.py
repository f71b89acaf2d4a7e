"""The HTTP Retry-After header, shared by the model backends and the LRS client: the one parser of it."""

from __future__ import annotations


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (never negative): a number, or an HTTP date. None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    # HTTP dates are always GMT (RFC 9110, 5.6.7), but the asctime form carries no zone and parses naive.
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def describe_wait(seconds: float) -> str:
    """A wait as people read it: "30 s", "4 min", "3 h", or "more than a day" (a date far ahead is not worth a number)."""
    if seconds < 600:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return "more than a day"
