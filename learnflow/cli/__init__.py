"""The command line: the typer app (app.py), one module per command group, the options shared
by several commands (options.py), and the one edge where failures become exit codes (edge.py).

A command parses, calls one core function, and hands the result to ui/ to draw. Nothing here
writes SQL or decides anything about learning. See docs/architecture.md.
"""
