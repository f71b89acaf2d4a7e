"""Everything that draws: messages, tables, streamed answers and progress (render.py), the gap
profile (gaps.py), the team matrix (team.py), the interactive prompter (prompter.py), and HTML
reports from Jinja2 templates (html.py, templates/). Only cli/ imports this package."""
