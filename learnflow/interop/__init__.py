"""The learning record beyond one machine: xAPI statements (xapi.py), flat export rows
(export.py), importing statements (imports.py), the LRS client for sync and pull (lrs.py), and
the team view computed from several people's statements (team.py, data only; ui/ draws it)."""
