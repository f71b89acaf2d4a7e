"""A small terminal emulator for tests: what a person would see in the scrollback and on screen.

It understands what learnflow and rich write (text, CR/LF, cursor up/down/column, erase in line
and display, SGR and private modes, which it ignores), with a fixed number of rows: a line feed
on the last row scrolls the top row into the scrollback, and the cursor cannot move above the
top row. That is exactly why a redraw taller than the screen leaves copies behind.
"""

from __future__ import annotations

import re

_CSI = re.compile(r"\x1b\[([?0-9;]*)([ -/]*)([@-~])")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(\x07|\x1b\\)")


class Terminal:
    def __init__(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self.screen = [[" "] * cols for _ in range(rows)]
        self.scrollback: list[str] = []
        self.y = self.x = 0
        self.wrap_pending = False

    def feed(self, data: str) -> None:
        i = 0
        while i < len(data):
            ch = data[i]
            if ch == "\x1b":
                m = _CSI.match(data, i) or _OSC.match(data, i)
                if m is None:  # a two-byte escape (e.g. ESC 7): skip it
                    i += 2
                    continue
                if m.re is _CSI:
                    self._csi(m.group(1), m.group(3))
                i = m.end()
                continue
            if ch == "\n":
                self._line_feed()
            elif ch == "\r":
                self.x, self.wrap_pending = 0, False
            elif ch == "\b":
                self.x = max(0, self.x - 1)
            elif ch >= " ":
                if self.wrap_pending:
                    self.x = 0
                    self._line_feed()
                self.screen[self.y][self.x] = ch
                if self.x == self.cols - 1:
                    self.wrap_pending = True
                else:
                    self.x += 1
            i += 1

    def _line_feed(self) -> None:
        self.wrap_pending = False
        if self.y == self.rows - 1:
            self.scrollback.append("".join(self.screen.pop(0)).rstrip())
            self.screen.append([" "] * self.cols)
        else:
            self.y += 1

    def _csi(self, params: str, final: str) -> None:
        if params.startswith("?"):
            return  # private modes (cursor shown/hidden, bracketed paste): nothing to draw
        nums = [int(p) if p else 0 for p in params.split(";")] if params else []
        n = nums[0] if nums else 0
        self.wrap_pending = False
        if final == "A":
            self.y = max(0, self.y - max(n, 1))
        elif final == "B":
            self.y = min(self.rows - 1, self.y + max(n, 1))
        elif final == "C":
            self.x = min(self.cols - 1, self.x + max(n, 1))
        elif final == "D":
            self.x = max(0, self.x - max(n, 1))
        elif final == "G":
            self.x = min(self.cols - 1, max(n, 1) - 1)
        elif final == "H":
            self.y = min(self.rows - 1, max(n, 1) - 1)
            self.x = min(self.cols - 1, max(nums[1] if len(nums) > 1 else 1, 1) - 1)
        elif final == "K":
            row = self.screen[self.y]
            lo, hi = {0: (self.x, self.cols), 1: (0, self.x + 1), 2: (0, self.cols)}.get(n, (0, 0))
            row[lo:hi] = [" "] * (hi - lo)
        elif final == "J":
            if n == 2:
                self.screen = [[" "] * self.cols for _ in range(self.rows)]
            elif n == 0:
                self.screen[self.y][self.x :] = [" "] * (self.cols - self.x)
                for r in range(self.y + 1, self.rows):
                    self.screen[r] = [" "] * self.cols

    def transcript(self) -> list[str]:
        """Every line the person can scroll through, oldest first (trailing blank rows dropped)."""
        lines = self.scrollback + ["".join(r).rstrip() for r in self.screen]
        while lines and not lines[-1]:
            lines.pop()
        return lines
