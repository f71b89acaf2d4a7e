"""`learnflow ask`, `history` and `show`: a question while you work and the log of them; `models`
and `prompts`: what answers it and how it is asked."""

import sys
from typing import Annotated, Optional

import typer

from learnflow.cli.edge import interruptible
from learnflow.cli.options import JsonOpt, ModelOpt, open_store, read_stdin
from learnflow.errors import LearnflowError


def ask(
    question: Annotated[
        Optional[list[str]], typer.Argument(metavar="QUESTION", help="Your question (quotes optional).", show_default=False)
    ] = None,
    file: Annotated[
        Optional[list[str]], typer.Option("-f", "--file", metavar="FILE", help="Attach a file as context (repeatable).", show_default=False)
    ] = None,
    model: ModelOpt = None,
    backend: Annotated[Optional[str], typer.Option("--backend", metavar="NAME", help="Force a backend: offline, openai, litellm.")] = None,
    continue_: Annotated[bool, typer.Option("-c", "--continue", help="Continue your last conversation.")] = False,
    cid: Annotated[Optional[int], typer.Option("--cid", metavar="ID", help="Continue the conversation with this id.")] = None,
    direct: Annotated[bool, typer.Option("--direct", help="Just the answer, no teaching (still logged).")] = False,
    level: Annotated[
        Optional[str],
        typer.Option("--level", metavar="LEVEL", help="Teach at this level: novice, intermediate, expert.", show_default=False),
    ] = None,
    no_redact: Annotated[
        bool,
        typer.Option(
            "--no-redact",
            help="Send and store secrets (API keys, tokens, passwords) as they are. Off by default: they are replaced by [REDACTED:type].",
        ),
    ] = False,
    no_log: Annotated[bool, typer.Option("--no-log", help="Do not keep this question or its answer in the log.")] = False,
    try_: Annotated[
        bool, typer.Option("--try", help="Try first: give your attempt or prediction, get feedback and a hint (`learnflow hint` for more).")
    ] = False,
    attempt: Annotated[
        Optional[str], typer.Option("--attempt", metavar="TEXT", help="Your attempt or prediction, without a prompt (implies --try).")
    ] = None,
    docs: Annotated[
        Optional[list[str]],
        typer.Option(
            "--docs",
            metavar="DIR",
            help="Ground the answer in your documents under DIR, cited file:line (repeatable; else the docs setting).",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Ask about what you are doing right now; the answer teaches and is logged.

    \b
    Examples:
      learnflow ask "How do I undo my last git commit but keep the changes?"
      pytest 2>&1 | learnflow ask "why does this test fail?"
      learnflow ask -f app/config.py "is this an idiomatic way to load config?"
      learnflow ask -c "and if I already pushed it?"
      learnflow ask --json -m ollama/llama3.2 "explain this regex: ^a+$"
      learnflow ask --try "how do I squash my last three commits?"
      learnflow ask --docs ~/team-wiki "how do we tag a release?"

    Novices get a worked example, experts get challenged; every answer ends with one check question.
    """
    from learnflow.config import LEVELS
    from learnflow.errors import BadInput
    from learnflow.tutor.ask import Ask, AskOptions
    from learnflow.tutor.context import read_file

    if level and level not in LEVELS:
        raise BadInput(f"--level must be one of: {', '.join(LEVELS)}.")
    if direct and (try_ or attempt is not None):
        raise BadInput("--direct answers straight away; --try and --attempt ask for your attempt first.", hint="Choose one.")
    # Try first waits for an attempt only at a terminal; a script gets the answer (or, with an
    # explicit --try, a clear error), never a prompt it cannot answer.
    interactive = not json_ and sys.stdin is not None and sys.stdin.isatty() and sys.stderr.isatty()
    if try_ and attempt is None and not interactive:
        raise BadInput(
            "--try needs a terminal to ask for your attempt.", hint='Give it with --attempt TEXT, e.g. --attempt "git reset HEAD~1".'
        )
    parts = []
    stdin = read_stdin()
    if stdin:
        parts.append(stdin)
    parts.extend(read_file(path) for path in file or [])
    text = " ".join(question or [])
    if not text.strip() and stdin:
        text = "Explain this and what I should do about it."
    opts = AskOptions(
        question=text, parts=parts, model=model, backend=backend, cid=cid,
        continue_last=continue_, direct=direct, level=level, redact=not no_redact,
        attempt=attempt, try_first=try_, ask_attempt=ask_attempt if interactive else None,
        docs=docs, docs_progress=None if json_ else _docs_progress,
    )  # fmt: skip
    if no_log and (continue_ or cid is not None):
        raise BadInput("--no-log cannot continue a conversation: the earlier turns are in the log.")
    if no_log:
        from learnflow.db.store import Store

        # An in-memory log: the ask works the same and leaves no trace on disk.
        run = Ask(Store(":memory:"), opts)
    else:
        run = Ask(open_store(), opts)
        if not json_:
            from learnflow.cli.reflect import remind_action

            remind_action(run.store)  # "Yesterday you planned to …": stderr, once a day
    result = stream_and_render(run, json_=json_)
    if not (json_ or no_log):
        from learnflow.cli.learn import offer_check

        offer_check(run, result)  # on a terminal: the check question right away (Enter skips)


def _docs_progress():
    from learnflow.ui import render

    return render.progress("Indexing your documents")


def ask_attempt(prompt: str = "Try first: your attempt or prediction (Enter skips)") -> str:
    """One line from the person at the terminal (on stderr, so stdout stays the answer)."""
    return typer.prompt(prompt, default="", show_default=False, err=True)


def hint(
    id_: Annotated[Optional[int], typer.Option("--id", metavar="ID", help="Climb the ladder of this answer (default: the latest).")] = None,
    cid: Annotated[Optional[int], typer.Option("--cid", metavar="ID", help="Climb the ladder of this conversation.")] = None,
    model: ModelOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The next rung after `ask --try`: a bigger hint, then the full answer.

    Novices get the worked example after one hint; experts get the critique first and ask for
    hints. `ask -c "…"` climbs the same way with a reply of your own.
    """
    from learnflow.tutor.ask import Ask, AskOptions
    from learnflow.tutor.tryfirst import next_rung, request_text

    store = open_store()
    rung = next_rung(store, interaction_id=id_, cid=cid)
    opts = AskOptions(question=request_text(rung.step, rung.level), model=model, cid=rung.conversation_id,
                      level=rung.level, hint_step=rung.step, topic=rung.topic)  # fmt: skip
    stream_and_render(Ask(store, opts), json_=json_)


def stream_and_render(run, *, json_: bool = False):
    """Stream a prepared Ask to the terminal (or collect it for --json); map failures.

    Shared by `ask`, `run --explain` and `explain`.
    """
    from learnflow.ui import render

    if run.warning and not json_:
        render.notice(f"{run.choice.model}: {run.warning}.")
    if run.redactions and not json_:
        n = sum(run.redactions.values())
        render.notice(
            f"Redacted {n} secret{'s' if n > 1 else ''} ({', '.join(sorted(run.redactions))}) before sending and logging; --no-redact keeps them."
        )
    if run.context.cut_tokens and not json_:
        render.notice(f"Context was {run.context.cut_tokens:,} tokens over the budget: kept the head and tail.")
    grounding = getattr(run, "grounding", None)
    if getattr(run, "docs_missing", None):  # on stderr even with --json: the answer has fewer documents than set
        from learnflow.ui.documents import missing_note

        render.notice(missing_note(run.docs_missing))
    if grounding is not None and not json_:
        from learnflow.ui.documents import grounding_notes

        for line in grounding_notes(grounding):
            render.notice(line)
    with interruptible(lambda: f"The question and the partial answer are kept as #{run.id}."):
        try:
            if json_:
                for _ in run.stream():
                    pass
            else:
                render.stream_answer(run.stream(), waiting=f"Asking {run.choice.model}…")
                if run.memory and run.memory.gap:
                    render.gap_line(run.memory.gap.line)  # learnflow's own line, after the model's answer
        except LearnflowError as exc:  # backend failures, and e.g. a bad local model file
            if json_:
                render.print_json(run.result())
            if run.logged and run.status != "not_saved":  # not_saved: the message says what the row holds
                exc.message = f"{exc.message} (logged as #{run.id}, status {run.status})"
            raise
    result = run.result()
    if json_:
        render.print_json(result)
    else:
        if run.fallback:
            render.notice(run.fallback)
        render.footer(result)
        if run.hint_step is not None and run.status == "ok":
            from learnflow.tutor.tryfirst import FULL, next_step

            step = next_step(run.hint_step, run.level)
            if step is not None:
                render.notice(
                    f"Stuck? `learnflow hint` gives {'the full answer' if step == FULL else 'a hint' if run.hint_step == 0 and run.level == 'expert' else 'a bigger hint'}."
                )
    return result


def history(
    n: Annotated[int, typer.Option("-n", "--limit", metavar="N", min=1, help="How many to show, newest first.")] = 20,
    q: Annotated[Optional[str], typer.Option("-q", "--query", metavar="TEXT", help="Full-text search over questions and answers.")] = None,
    skill: Annotated[Optional[str], typer.Option("--skill", metavar="SKILL", help="Only interactions tagged with this skill.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List past questions, newest first; search them with -q.

    Example: learnflow history -q rebase --skill git
    """
    from learnflow.ui import render

    if skill:
        from learnflow.errors import BadInput
        from learnflow.learner.skills import taxonomy

        if skill not in taxonomy():
            raise BadInput(f"Unknown skill {skill!r}.", hint=f"Skills: {', '.join(taxonomy())}.")
    from learnflow.tutor.tryfirst import annotate

    store = open_store()
    rows = annotate(store, store.history(limit=n, query=q, skill=skill))
    if json_:
        render.print_json(rows)
        return
    if not rows:
        render.notice("Nothing logged yet." if not (q or skill) else "No matches.")
        return
    for row in rows:
        row["when"] = row["created_at"][:16].replace("T", " ")
        row["question"] = row["question"][:70]
        if row["flag"]:
            row["status"] = f"{row['status']}, flagged {row['flag']}"  # `learnflow flag`: the learner says it is wrong
        row["status"] = ", ".join([row["status"], *_doing(row)])
    render.table(
        rows,
        [("id", "ID"), ("when", "When (UTC)"), ("skills", "Skills"), ("question", "Question"), ("status", "Status")],
    )


def _doing(row: dict) -> list[str]:
    """The learner's own moves on an ask, in a few words each: a repeat, an attempt, a hint rung."""
    out = [f"repeat of #{row['repeat_of']}"] if row.get("repeat_of") else []
    if row.get("attempt"):
        score = row.get("attempt_score")
        out.append(f"attempt {score:.2f}" if score is not None else "attempt (unjudged)")
    if row.get("hint_step") is not None:
        out.append(f"hint rung {row['hint_step']}")
    return out


def show(
    interaction_id: Annotated[
        Optional[str], typer.Argument(metavar="[ID|last]", help="Interaction id from `learnflow history` (default: the latest).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Show one logged interaction: question, context, answer and how it was produced.

    `learnflow show` and `learnflow show last` show the latest.
    """
    from learnflow.errors import BadInput, NotFound
    from learnflow.tutor.memory import gap_of_interaction
    from learnflow.ui import render

    store = open_store()
    if interaction_id is None or interaction_id == "last":
        latest = store.history(limit=1)
        if not latest:
            raise NotFound("Nothing logged yet.", hint='Ask something first: learnflow ask "…"')
        row = store.get(latest[0]["id"])
    else:
        try:
            number = int(interaction_id)
        except ValueError:
            raise BadInput(
                f"{interaction_id!r} is not an interaction id.", hint="Give a number from `learnflow history`, or `last`."
            ) from None
        row = store.get(number)
    from learnflow.learner.repeats import asked_before
    from learnflow.tutor.tryfirst import annotate

    gap = gap_of_interaction(store, row)
    row["gap"] = gap.__dict__ if gap else None
    annotate(store, [row])
    row["repeat"] = asked_before(store, row)
    if json_:
        render.print_json(row)
        return
    skills = ", ".join(f"{s['skill']} ({s['method']})" for s in row["skills"])
    meta = [f"#{row['id']}", row["created_at"][:19].replace("T", " "), f"conversation {row['conversation_id']}",
            row["model"] or "", row["level"] or "", row["status"]]  # fmt: skip
    lines = [f"**Q:** {row['question']}", "", f"_{' · '.join(m for m in meta if m)}_", f"_skills: {skills}_"]
    if row["context_summary"]:
        lines.append(f"_context: {row['context_summary']}_")
    if row["error"]:
        lines.append(f"_error: {row['error']}_")
    for f in row["flags"]:
        lines.append(f"_flagged {f['verdict']} (flag #{f['id']}, {f['created_at'][:10]}): {f['reason']}_")
    lines += _doing_lines(row)
    lines += ["", row["answer"] or "_(no answer)_"]
    render.markdown("\n".join(lines))
    if gap:
        render.gap_line(gap.line)


def _doing_lines(row: dict) -> list[str]:
    """`show`'s lines for a repeat, a try-first attempt and the hint rung."""
    lines = []
    earlier = row["repeat"]
    if earlier:
        if earlier["question"] is None:
            lines.append(f"_asked before as #{earlier['id']} (no longer in the log)_")
        else:
            lines.append(f"_asked before as #{earlier['id']} ({earlier['created_at'][:10]}): “{earlier['question'][:80]}”_")
    if row["hint_rung"]:
        lines.append(f"_try first, rung {row['hint_step']}: {row['hint_rung']}_")
    if row["attempt"]:
        score = row["attempt_score"]
        judged = f"judged {score:.2f}" if score is not None else "not judged"
        lines += ["", f"**Your attempt** ({judged}):", *(f"> {line}" for line in row["attempt"].splitlines())]
    return lines


def models(json_: JsonOpt = False) -> None:
    """List backends and models, what the configured server offers, the one in use, and why."""
    from learnflow.backends import registry
    from learnflow.config import Config
    from learnflow.tutor.choose import choose, describe
    from learnflow.ui import render

    choice = choose(Config())
    rows = [
        {"model": m.name, "backend": b.name, "note": m.note, "description": b.description} for b in registry().all() for m in b.models()
    ]
    served, served_error = None, None
    if choice.backend == "openai":  # an OpenAI-compatible server is configured: ask it what it serves (`GET /v1/models`)
        from learnflow.backends.openai_compat import served_models

        try:
            served = served_models(choice.model, choice.api_base)
        except LearnflowError as exc:
            served_error = exc.message
    if json_:
        from dataclasses import asdict

        render.print_json(
            {"default": describe(choice), "models": rows, "served": asdict(served) if served else None, "served_error": served_error}
        )
        return
    render.table(rows, [("model", "Model"), ("backend", "Backend"), ("note", "Note")], title="Backends and models")
    if served is not None:
        listed = [
            {"model": f"{served.provider}/{m}", "in_use": "in use" if f"{served.provider}/{m}" == choice.model else ""}
            for m in served.models
        ]
        render.table(listed, [("model", "Model"), ("in_use", "")], title=f"Served by {served.base}")
        if not served.models:
            render.notice(f"{served.base} lists no models.")
    elif served_error:
        render.notice(f"Cannot list the server's models: {served_error}")
    render.markdown(f"**In use:** `{choice.model}` via `{choice.backend}` — {choice.reason}.")


def prompts(
    name: Annotated[Optional[str], typer.Argument(help="Print this prompt's text.", show_default=False)] = None,
    copy: Annotated[bool, typer.Option("--copy", help="Copy the bundled prompt into your prompts folder to edit it.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Show the prompt files in use (bundled or your override) and where they are.

    Override a prompt by putting a file of the same name in your prompts folder:
    learnflow prompts system --copy, then edit the path it prints.
    """
    import shutil

    from learnflow import paths
    from learnflow import prompts as prompt_files
    from learnflow.ui import render

    if name is None:
        rows = [{"name": p.name, "source": p.source, "path": str(p.path)} for p in prompt_files.list_prompts()]
        if json_:
            render.print_json(rows)
        else:
            render.table(rows, [("name", "Prompt"), ("source", "Source"), ("path", "Path")])
            render.notice(f"Override any of them in {paths.user_prompts_dir()}")
        return
    pf = prompt_files.find(name)
    if copy:
        target = paths.user_prompts_dir() / f"{name}.md"
        if target.exists():
            render.notice(f"{target} already exists; left unchanged.")
        else:
            paths.ensure_private_dir(target.parent)
            shutil.copyfile(paths.bundled_prompts_dir() / f"{name}.md", target)
            render.notice(f"Copied to {target}: edit it there.")
        return
    if json_:
        render.print_json({"name": pf.name, "source": pf.source, "path": str(pf.path), "text": prompt_files.text(name)})
    else:
        render.notice(f"{pf.path} ({pf.source})")
        typer.echo(prompt_files.text(name))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("ask", rich_help_panel="Work")(ask)
    app.command("hint", rich_help_panel="Work")(hint)
    app.command("history", rich_help_panel="Log")(history)
    app.command("show", rich_help_panel="Log")(show)
    app.command("models", rich_help_panel="Setup")(models)
    app.command("prompts", rich_help_panel="Setup")(prompts)
