"""The HTTP Retry-After header, shared by the model backends and the LRS client."""

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

        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
