"""Setup and housekeeping: `config …`, `keys …`, `doctor`, `forget`."""

from typing import Annotated, Optional

import typer

from learnflow.cli.options import JsonOpt, open_store

config_app = typer.Typer(help="Read and change settings (a TOML file; `config path` shows where).", no_args_is_help=True)
keys_app = typer.Typer(help="Store API keys in a private file (0600). Environment variables win over it.", no_args_is_help=True)


@config_app.command("get")
def config_get(key: Annotated[str, typer.Argument(help="Setting name, e.g. model or levels.git.")]) -> None:
    """Print one setting (its default when unset)."""
    from learnflow.config import Config, load

    value = Config(load()).get(key)  # only this key is checked: the others may be what is being fixed
    if isinstance(value, list):  # a list of folders prints as it is set: joined with os.pathsep
        import os

        value = os.pathsep.join(map(str, value))
    typer.echo("" if value is None else value)


@config_app.command("set")
def config_set(
    key: Annotated[str, typer.Argument(help="Setting name; `learnflow config list` shows them all.")],
    value: Annotated[str, typer.Argument(help="New value.")],
) -> None:
    """Change a setting, e.g. `learnflow config set model ollama/llama3.2`."""
    from learnflow import config
    from learnflow.learner.skills import taxonomy
    from learnflow.ui import render

    stored = config.set_value(key, value, skills=taxonomy())
    if isinstance(stored, list):  # as TOML writes it, not as a Python list
        import json

        render.notice(f"{key} = {json.dumps(stored)}")
    else:
        render.notice(f"{key} = {stored!r}")


@config_app.command("unset")
def config_unset(key: Annotated[str, typer.Argument(help="Setting name.")]) -> None:
    """Remove a setting so its default applies again."""
    from learnflow import config
    from learnflow.ui import render

    render.notice(f"{key} removed." if config.unset_value(key) else f"{key} was not set.")


@config_app.command("path")
def config_path() -> None:
    """Print where the config file, database and prompts live."""
    from learnflow import paths

    typer.echo(f"config:   {paths.config_path()}")
    typer.echo(f"database: {paths.db_path()}")
    typer.echo(f"prompts:  {paths.user_prompts_dir()}")
    typer.echo(f"keys:     {paths.keys_path()}")


@config_app.command("list")
def config_list(json_: JsonOpt = False) -> None:
    """Every setting with its current value, default and meaning."""
    from learnflow.config import SETTINGS, TABLES, Config, load
    from learnflow.errors import ConfigError
    from learnflow.ui import render

    cfg = Config(load())  # listed as written, each bad value named below rather than stopping the list
    rows = [{"key": k, "value": cfg.data.get(k, s.default), "default": s.default, "help": s.help} for k, s in SETTINGS.items()]
    problems = []
    for key in SETTINGS:
        try:
            cfg.get(key)
        except ConfigError as exc:
            problems.append(exc.message)
    problems += [f"Unknown setting {key!r} in the config file (a typo, or written by a newer learnflow)." for key in cfg.unknown_keys()]
    for table, setting in TABLES.items():
        entries = cfg.data.get(table)
        for skill, value in (entries if isinstance(entries, dict) else {}).items():
            rows.append({"key": f"{table}.{skill}", "value": value, "default": None, "help": setting.help})
    if json_:
        render.print_json(rows)
    else:
        render.table(rows, [("key", "Setting"), ("value", "Value"), ("default", "Default"), ("help", "Meaning")])
        for problem in problems:
            render.notice(problem)


@keys_app.command("set")
def keys_set(
    provider: Annotated[str, typer.Argument(help="openai, anthropic, gemini, mistral, groq…")],
    value: Annotated[
        Optional[str],
        typer.Option(
            "--value",
            metavar="KEY",
            help="The key. Avoid it: it lands in shell history. Omit it to be prompted (hidden) or pipe the key on stdin.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Save a provider's API key to the keys file (readable by you only)."""
    import sys

    from learnflow import keys
    from learnflow.errors import BadInput
    from learnflow.ui import render

    if value is None and not sys.stdin.isatty():
        # `pass show openai | learnflow keys set openai`; read as bytes: a strict stdin raises on non-UTF-8.
        line = sys.stdin.buffer.readline() if hasattr(sys.stdin, "buffer") else sys.stdin.readline().encode("utf-8", "surrogateescape")
        try:
            value = line.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("The key piped in is not UTF-8 text.", hint="Check what the command before the pipe prints.") from None
    secret = (value if value is not None else typer.prompt(f"{provider} API key", hide_input=True)).strip()
    if not secret:
        raise BadInput("The key is empty.", hint=f"Pipe it in (… | learnflow keys set {provider}) or type it at the prompt.")
    keys.set_key(provider, secret)
    render.notice(f"Saved the {provider} key.")


@keys_app.command("unset")
def keys_unset(provider: Annotated[str, typer.Argument(help="openai, anthropic, gemini, mistral, groq…")]) -> None:
    """Remove a provider's key from the keys file (a key in the environment stays: unset the variable)."""
    import os

    from learnflow import keys, paths
    from learnflow.errors import NotFound
    from learnflow.ui import render

    if not keys.unset_key(provider):
        raise NotFound(f"The keys file holds no {provider} key.", hint="`learnflow keys list` shows which providers have one.")
    render.notice(f"Removed the {provider} key from {paths.keys_path()}.")
    env = keys.ENV_VARS.get(provider)
    if env and os.environ.get(env):
        render.notice(f"{env} is still set in your environment, and is used.")


@keys_app.command("list")
def keys_list() -> None:
    """Which providers have a key (names only, never the keys)."""
    from learnflow import keys

    for p in keys.stored_providers():
        typer.echo(f"{p}\t(keys file)")
    for p in keys.env_providers():
        typer.echo(f"{p}\t(environment)")


@keys_app.command("path")
def keys_path() -> None:
    """Print where the keys file lives."""
    from learnflow import paths

    typer.echo(paths.keys_path())


def doctor(
    repair: Annotated[bool, typer.Option("--repair", help="Copy a damaged log aside and rebuild it from what is readable.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Check this machine: folders, config, database, which model answers and why, local servers.

    Exits with the code of the first failing area (4 config, 5 backend, 7 database).
    --repair never deletes the damaged file: it is kept beside the new one.
    """
    from learnflow.admin import doctor as doc
    from learnflow.ui import render

    if repair:
        done = doc.repair_database()
        kept = ", ".join(f"{n} {t}" for t, n in done["salvaged"].items()) or "no readable rows"
        render.notice(f"Damaged log kept as {done['backup']}; rebuilt with {kept}.")
        if done["unlinked"]:
            lost = ", ".join(f"{n} {t}" for t, n in done["unlinked"].items())
            render.notice(f"Rows whose parent row was unreadable were unlinked (or dropped when they need one): {lost}.")
    checks = doc.run_checks()
    if json_:
        render.print_json(doc.as_dicts(checks))
    else:
        marks = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "info": "-"}
        rows = [{**c.__dict__, "mark": marks[c.status]} for c in checks]
        render.table(rows, [("mark", ""), ("name", "Check"), ("detail", "Found"), ("fix", "Fix")])
    code = doc.exit_code(checks)
    if code:
        raise typer.Exit(code)


def forget(
    ids: Annotated[Optional[list[int]], typer.Argument(metavar="[ID]...", help="Interaction ids to delete.")] = None,
    since: Annotated[
        Optional[str], typer.Option("--since", metavar="WHEN", help="Delete everything asked since then: 2d, 12h, 2026-11-01.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Delete your whole learning record.")] = False,
    source: Annotated[
        Optional[str],
        typer.Option("--source", metavar="SOURCE", help="Delete everything that came from claude, codex, gemini, aider, llm, mcp or hook."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Delete interactions for good: rows, full-text index and derived evidence, then VACUUM.

    With --json, prints what was deleted.

    \b
    Examples:
      learnflow forget 42 43
      learnflow forget --since 2h
      learnflow forget --source claude    # all that an import or hook took from Claude Code
      learnflow forget --all --yes
    """
    from learnflow.admin.forget import forget as do_forget
    from learnflow.errors import BadInput
    from learnflow.ui import render

    if not (ids or since or all_ or source):
        raise BadInput("Say what to forget: interaction ids, --since, --source or --all.", hint="learnflow history lists the ids.")
    since_iso = None
    if since:
        from learnflow.timespec import iso, parse_since

        since_iso = iso(parse_since(since))
    if all_ and not yes:
        import sys

        if not sys.stdin.isatty():
            raise BadInput("forget --all needs confirmation, and there is no terminal to ask.", hint="Add --yes.")
        if not typer.confirm("Delete your whole learnflow record (asks, reflections, reviews, goals)?", err=True):
            if json_:
                render.print_json({"interactions": 0, "confirmed": False})
            render.notice("Nothing deleted.")
            return
    done = do_forget(open_store(), ids=ids, since=since_iso, source=source, everything=all_)
    if json_:
        render.print_json({**done.to_dict(), "confirmed": True})
        return
    render.notice(forget_report(done))


def forget_report(done) -> str:
    """What forget deleted, kind by kind, in words (the counts are the rows deleted)."""
    from learnflow.db.admin import KINDS

    def n(count: int, word: str) -> str:
        return f"{count:,} {word}{'' if count == 1 else 's'}"

    kinds = [n(done.tables[t], word) for t, word in KINDS.items() if done.tables.get(t) and t != "interactions"]
    if done.everything:
        head = "Forgot everything: " + (", ".join([n(done.interactions, "interaction"), *kinds]) if done.tables else "the log was empty")
    else:
        head = f"Forgot {n(done.interactions, 'interaction')}" + (f" and what was made from them ({', '.join(kinds)})" if kinds else "")
    parts = [head + "; the database was compacted."]
    if done.reflections_rewritten:
        parts.append(f"{n(done.reflections_rewritten, 'reflection')} no longer mention them (summary and narrative rewritten).")
    if done.voidings_queued:
        parts.append(f"{n(done.voidings_queued, 'statement')} an LRS holds will be voided by the next `learnflow sync`.")
    return " ".join(parts)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
    app.command("forget")(forget)
    app.add_typer(config_app, name="config", rich_help_panel="Setup")
    app.add_typer(keys_app, name="keys", rich_help_panel="Setup")
