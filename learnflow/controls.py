"""Text that reaches a terminal or a spreadsheet, made inert.

Questions, piped logs and model answers are replayed by `ask`, `show`, `history` and the
CSV export. Terminal control sequences in them would act again on the reader's terminal:
clear the screen, set the window title, hide text, plant OSC 8 links, overwrite a line
with a carriage return. Bidi overrides reorder what is shown ("Trojan Source"). A CSV cell
that starts with = + - @ is run as a formula by spreadsheets.
"""

from __future__ import annotations

import re

# ESC sequences first (CSI with its parameters, OSC/DCS/APC/PM/SOS strings up to their
# terminator, two-character escapes), so their visible tails do not stay behind as text;
# then every remaining C0/C1 control except tab and newline, and the bidi controls.
# Kept as strings and compiled on first use (re's cache): `lf` imports this module on every run
# and usually prints nothing.
_SEQUENCE = (
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI … final byte (colours, cursor moves, clear screen)
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (titles, links), DCS, SOS, PM, APC
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x1b[ -/]*[0-~]"  # other escapes (charset switches, RIS "ESC c")
)
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


def strip_controls(text: str) -> str:
    """`text` without terminal control sequences; a CR-LF stays a line end, a lone CR goes."""
    if not text:
        return text
    text = text.replace("\r\n", "\n")
    return re.sub(_CONTROL, "", re.sub(_SEQUENCE, "", text))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A value safe in a spreadsheet cell: control sequences removed, a formula made text."""
    if not isinstance(value, str):
        return value
    value = strip_controls(value)
    return "'" + value if value.startswith(_FORMULA_START) else value
