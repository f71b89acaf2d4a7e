"""`learnflow export`, `import`, `sync` and `team`: the log beyond one machine (xAPI).

Parse, call the core (interop/xapi.py, imports.py, lrs.py, team.py), render (ui/render.py,
ui/team.py, ui/html.py). Both are imported inside the commands so `learnflow --help`
never pays for them.
"""

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from learnflow.cli.options import HtmlOpt, JsonOpt, open_store, read_stdin_text

PANEL = "Share"
ActorMbox = Annotated[
    Optional[str],
    typer.Option("--actor-mbox", help="Identify yourself by e-mail (else xapi_actor_mbox; default: a pseudonym).", show_default=False),
]
ActorHome = Annotated[
    Optional[str],
    typer.Option("--actor-homepage", help="Account system's home page, e.g. your SSO (with --actor-account).", show_default=False),
]
ActorAccount = Annotated[Optional[str], typer.Option("--actor-account", help="Your account name on that system.", show_default=False)]
ActorName = Annotated[Optional[str], typer.Option("--actor-name", help="A display name to send with the statements.", show_default=False)]
IncludeText = Annotated[
    bool,
    typer.Option("--include-text", help="Also send question, answer and reflection text (off: only skills, results and times)."),
]
Since = Annotated[
    Optional[str], typer.Option("--since", metavar="WHEN", help="Only statements from then on: 2d, 1w, 2024-06-01.", show_default=False)
]
LrsUrl = Annotated[
    Optional[str],
    typer.Option("--lrs", metavar="URL", help="The LRS's xAPI endpoint (else LEARNFLOW_LRS_URL or xapi_lrs_url).", show_default=False),
]
LrsUser = Annotated[
    Optional[str], typer.Option("--user", help="LRS user / key (else LEARNFLOW_LRS_USER or xapi_lrs_user).", show_default=False)
]
LrsPassword = Annotated[
    Optional[str],
    typer.Option(
        "--password",
        help="LRS password / secret (better: LEARNFLOW_LRS_PASSWORD or `learnflow keys set lrs`).",
        show_default=False,
    ),
]


def _statements(store, *, since, include_text, mbox, homepage, account, name) -> list[dict]:
    from learnflow.interop import xapi

    moment = None
    if since:
        from learnflow.timespec import parse_since

        moment = parse_since(since)
    actor = xapi.resolve_actor(store, mbox=mbox, homepage=homepage, account=account, name=name)
    return xapi.build_statements(store, actor, include_text=include_text, since=moment)


def _read(path: str) -> tuple[str, str]:
    """A statements file, whole (exports are large: no size cap here); `-` is standard input."""
    from learnflow.errors import BadInput

    if path == "-":
        return read_stdin_text(), "standard input"
    try:
        return Path(path).expanduser().read_text(encoding="utf-8-sig"), path
    except FileNotFoundError:
        raise BadInput(f"File not found: {path}.") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder, not a statements file.") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text: not an xAPI export.") from None
    except OSError as exc:
        raise BadInput(f"Cannot read {path}: {exc.strerror}.") from None


@contextmanager
def _open_binary(path: str):
    """A statements file (or `-`, standard input) as a binary stream: read as it is parsed, never whole."""
    from learnflow.errors import BadInput

    if path == "-":
        yield sys.stdin.buffer, "standard input"
        return
    try:
        fh = open(Path(path).expanduser(), "rb")
    except FileNotFoundError:
        raise BadInput(f"File not found: {path}.") from None
    except IsADirectoryError:
        raise BadInput(f"{path} is a folder, not a statements file.") from None
    except OSError as exc:
        raise BadInput(f"Cannot read {path}: {exc.strerror}.") from None
    with fh:
        yield fh, path


def _write_private(path: Path, text: str) -> None:
    """Exports hold a person's learning record: readable by them only (0600)."""
    from learnflow.files import write_user_file

    write_user_file(path, text, example="-o statements.json")


def export(
    format_: Annotated[
        str, typer.Option("--format", "-F", metavar="FORMAT", help="xapi (statements), json or csv (one flat row per statement).")
    ] = "xapi",
    old_format: Annotated[Optional[str], typer.Option("-f", hidden=True, show_default=False)] = None,
    since: Since = None,
    include_text: IncludeText = False,
    output: Annotated[
        Optional[Path],
        typer.Option("-o", "--output", help="Write to FILE (0600) instead of standard output.", metavar="FILE", show_default=False),
    ] = None,
    actor_mbox: ActorMbox = None,
    actor_homepage: ActorHome = None,
    actor_account: ActorAccount = None,
    actor_name: ActorName = None,
) -> None:
    """Export your log as xAPI 1.0.3 statements (or flat JSON / CSV) for an LRS or another machine.

    \b
    Examples:
      learnflow export -o me.json                       # pseudonymous, no text
      learnflow export --since 1w -F csv -o week.csv
      learnflow export --actor-mbox ada@example.com --include-text -o full.json

    Statement ids are stable, so exporting twice never duplicates anything in an LRS.
    What is and is not sent: docs/xapi.md.
    """
    import json

    from learnflow.errors import BadInput
    from learnflow.ui import render

    if old_format is not None:  # `-f` is --file everywhere else (ask -f FILE): the old spelling still works, for now
        render.notice("`export -f` is now `-F` (or --format): -f means --file in the other commands.")
        format_ = old_format
    if format_ not in ("xapi", "json", "csv"):
        raise BadInput(f"--format must be xapi, json or csv, not {format_!r}.")
    store = open_store()
    sts = _statements(
        store,
        since=since,
        include_text=include_text,
        mbox=actor_mbox,
        homepage=actor_homepage,
        account=actor_account,
        name=actor_name,
    )
    if format_ == "xapi":
        # One statement per line inside the array: still one JSON document, and easy to grep or diff.
        text = "[\n" + ",\n".join(json.dumps(s, ensure_ascii=False, separators=(",", ":")) for s in sts) + "\n]\n" if sts else "[]\n"
    else:
        from learnflow.interop.export import records, to_csv

        rows = records(sts)
        text = to_csv(rows) if format_ == "csv" else json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        _write_private(output, text)
    privacy = "with question and answer text" if include_text else "no question or answer text (--include-text adds it)"
    render.notice(f"Exported {len(sts):,} statements{f' to {output}' if output else ''}; {privacy}.")
    if store.not_kept:  # a read-only log: ids made for this run only
        render.notice(f"Made for this export only, not kept ({store.read_only}): {' and '.join(store.not_kept)}; "
                      "a later export's statement ids will differ.")  # fmt: skip


def import_(
    file: Annotated[
        Optional[str],
        typer.Argument(
            metavar="FILE",
            help='Statements: a JSON array, an LRS answer {"statements": [...]}, or JSON lines; - for stdin. '
            "With --from: the agent's sessions (default: where the agent keeps them).",
            show_default=False,
        ),
    ] = None,
    from_: Annotated[
        Optional[str],
        typer.Option(
            "--from",
            metavar="AGENT",
            help="Import a coding agent's past sessions: claude, codex, gemini, aider or llm.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --from: show what would be kept (counts, redacted examples); write nothing.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Import xAPI statements (from another machine or an LRS), or a coding agent's sessions; importing twice adds nothing.

    \b
    Examples:
      learnflow import laptop.json
      curl -u KEY:SECRET -H 'X-Experience-API-Version: 1.0.3' https://lrs.example.com/xapi/statements | learnflow import -
      learnflow import --from claude --dry-run
      learnflow import --from aider ~/src/app/.aider.chat.history.md

    learnflow's own statements bring back the evidence your skill profile is computed from;
    other tools' statements with a score on a learnflow skill count as imported evidence.
    From an agent, your prompts become questions (redacted, tagged) and a shell command that failed,
    then passed or kept failing, becomes task evidence; tool output and file contents are never kept.
    """
    from dataclasses import asdict

    from learnflow.errors import BadInput
    from learnflow.ui import render

    if from_ is not None:
        _import_agent(from_, file, dry_run=dry_run, json_=json_)
        return
    if file is None:
        raise BadInput("Name a statements file (or - for stdin), or an agent with --from.", hint="learnflow import laptop.json")
    if dry_run:
        raise BadInput("--dry-run goes with --from (an agent's sessions).")
    from learnflow.interop.imports import import_statements, read_statements

    with _open_binary(file) as (stream, origin), render.progress("Importing statements") as show:
        result = import_statements(open_store(), read_statements(stream, origin=origin), progress=show)
    if result.invalid and not (result.added or result.known or result.own):
        reasons = ", ".join(f"{why} ({n:,})" for why, n in result.problems.items())
        raise BadInput(f"{origin} does not hold xAPI statements: none of its {result.invalid:,} items is valid ({reasons}).")
    if json_:
        render.print_json(asdict(result))
        return
    skipped = [
        f"{n:,} {what}"
        for n, what in ((result.known, "imported before"), (result.own, "from this log"), (result.invalid, "invalid, not stored"))
        if n
    ]
    render.notice(
        f"Imported {result.added:,} statements ({result.evidence:,} pieces of evidence)"
        + (f"; skipped {', '.join(skipped)}." if skipped else ".")
    )
    if result.problems:
        reasons = ", ".join(f"{why} ({n:,})" for why, n in sorted(result.problems.items(), key=lambda kv: -kv[1]))
        render.notice(f"Invalid: {reasons}. First: {'; '.join(result.examples)}.")
    if result.people > 1:
        # One log is one person's profile: several people's records would blur it.
        render.notice(f"Note: they come from {result.people} different people. To compare people, use `learnflow team FILE...`.")


def _import_agent(source: str, path: str | None, *, dry_run: bool, json_: bool) -> None:
    """`import --from AGENT [PATH]`: the sessions, read incrementally, with a summary of what was kept."""
    from learnflow import paths
    from learnflow.sources import WHAT, import_from
    from learnflow.ui import render

    if dry_run and not paths.db_path().exists():
        from learnflow.db.store import Store

        store = Store(":memory:")  # a dry run on a new machine leaves no log behind
    else:
        store = open_store()
    with render.progress(f"Reading {WHAT.get(source, source)}") as show:
        report = import_from(store, source, path, dry_run=dry_run, progress=show)
    if json_:
        render.print_json(report.to_dict())
        return
    head = "Would import" if dry_run else "Imported"
    render.notice(
        f"{head} from {source} ({report.files:,} file{'s' * (report.files != 1)}, {report.bytes / 1e6:,.1f} MB read): "
        f"{report.prompts:,} prompts as questions, {report.tasks:,} shell tasks ({report.recoveries:,} recoveries); "
        f"{report.secrets_removed:,} secrets removed."
    )
    skipped = [f"{n:,} {why}" for why, n in sorted(report.skipped.items(), key=lambda kv: -kv[1])]
    if report.known:
        skipped.insert(0, f"{report.known:,} imported before")
    if report.damaged:
        skipped.insert(0, f"{report.damaged:,} damaged lines")
    if skipped:
        render.notice(f"Skipped: {'; '.join(skipped)}.")
    if dry_run:
        for kind, shown in report.examples.items():
            for text in shown:
                render.notice(f"  {kind[:-1]}: {text}")
        render.notice("Nothing was written (--dry-run).")


def sync(
    lrs: LrsUrl = None,
    user: LrsUser = None,
    password: LrsPassword = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=10000, help="Statements per request.")] = 500,
    since: Since = None,
    include_text: IncludeText = False,
    actor_mbox: ActorMbox = None,
    actor_homepage: ActorHome = None,
    actor_account: ActorAccount = None,
    actor_name: ActorName = None,
    json_: JsonOpt = False,
) -> None:
    """Send the statements your LRS has not acknowledged yet; safe to run again, or after a failure.

    \b
    Examples:
      export LEARNFLOW_LRS_USER=key LEARNFLOW_LRS_PASSWORD=secret
      learnflow sync --lrs https://lrs.example.com/xapi/
      learnflow config set xapi_lrs_url https://lrs.example.com/xapi/ && learnflow sync

    Retries on rate limits, server errors and lost connections; a wrong password exits 5.
    """
    from dataclasses import asdict

    from learnflow.interop import lrs as core
    from learnflow.ui import render

    target = core.lrs_from(lrs, user, password)
    store = open_store()
    sts = _statements(
        store,
        since=since,
        include_text=include_text,
        mbox=actor_mbox,
        homepage=actor_homepage,
        account=actor_account,
        name=actor_name,
    )
    with render.progress("Sending statements") as show:
        result = core.sync(store, sts, target, batch=batch, progress=show)
    if json_:
        render.print_json(asdict(result))
        return
    if result.voided:
        render.notice(f"Voided {result.voided:,} statements of forgotten records at {result.lrs} (xAPI voiding).")
    if result.sent:
        render.notice(
            f"Sent {result.sent:,} statements to {result.lrs} in {result.batches} batches ({result.seconds:.1f} s); "
            f"{result.already:,} were there already."
        )
    else:
        render.notice(f"Nothing new to send: {result.lrs} has all {result.total:,} statements.")


def team(
    files: Annotated[
        Optional[list[Path]],
        typer.Argument(metavar="[FILE]...", help="Exports of several people (learnflow export), or LRS answers.", show_default=False),
    ] = None,
    lrs: LrsUrl = None,
    user: LrsUser = None,
    password: LrsPassword = None,
    target: Annotated[
        Optional[float],
        typer.Option(
            "--target",
            min=0.0,
            max=1.0,
            help="Target mastery for every skill (default: gaps_default_target).",
            show_default=False,
        ),
    ] = None,
    json_: JsonOpt = False,
    html: HtmlOpt = None,
) -> None:
    """A team skill matrix: who is strong where, which gaps everyone shares, who could pair with whom.

    \b
    Examples:
      learnflow team ada.json bob.json cy.json
      learnflow team --lrs https://lrs.example.com/xapi/ --html team.html
      learnflow team *.json --json | jq '.shared_gaps'

    Each person is measured with the same learner model as `learnflow gaps`.
    """
    from learnflow.errors import BadInput
    from learnflow.interop.team import team_report
    from learnflow.ui import render

    statements: list[dict] = []
    if files:
        from learnflow.interop.imports import parse_statements

        for f in files:
            text, origin = _read(str(f))
            statements += parse_statements(text, origin=origin)
    if lrs:
        from learnflow.interop import lrs as core

        statements += core.pull(core.lrs_from(lrs, user, password))
    if not files and not lrs:
        raise BadInput(
            "Give people's exports as files, or --lrs URL to read them from an LRS.", hint="e.g. learnflow team ada.json bob.json"
        )
    report = team_report(statements, target=target)
    if not report.people:
        raise BadInput("No statements with an actor in the input: nobody to show.")
    if html is not None:
        from learnflow.ui.html import write_team_html

        write_team_html(report, html)
        render.notice(f"Wrote {html}")
    if json_:
        render.print_json(report.to_dict())
        return
    from learnflow.ui.team import team_text

    sys.stdout.write("\n".join(team_text(report)) + "\n")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("export", rich_help_panel=PANEL)(export)
    app.command("import", rich_help_panel=PANEL)(import_)
    app.command("sync", rich_help_panel=PANEL)(sync)
    app.command("team", rich_help_panel=PANEL)(team)
