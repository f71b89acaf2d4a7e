"""`learnflow cards list|edit|retire|export|import`: the learner's own cards and the deck taken along
(practice/generated.py, practice/deck.py; the Markdown format in docs/content.md)."""

from typing import Annotated, Optional

import typer

from learnflow.cli.options import JsonOpt, open_store

cards_app = typer.Typer(
    help="Your review deck: the check questions the model wrote or you imported (list, edit, retire), export and import.",
    no_args_is_help=True,
)

SkillOpt = Annotated[Optional[str], typer.Option("--skill", metavar="SKILL", help="Only this skill's cards.", show_default=False)]


def _skill(skill: Optional[str]) -> None:
    if skill is not None:
        from learnflow.learner.goals import validate

        validate(skill, 0.5, 1.0)  # an unknown skill is bad input, with "did you mean"


@cards_app.command("list")
def cards_list(
    skill: SkillOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Retired cards too.")] = False,
    json_: JsonOpt = False,
) -> None:
    """The generated cards: written by the model for a skill without a guide (`check --skill S`), or imported."""
    from dataclasses import asdict

    from learnflow.practice import generated
    from learnflow.ui import render

    _skill(skill)
    found = generated.list_cards(open_store(), skill=skill, retired=all_)
    if json_:
        render.print_json([{**asdict(c), "status": c.status} for c in found])
        return
    if not found:
        render.notice("No generated cards yet. `learnflow check --skill SKILL` on a skill without a guide has the model write some;"
                      " `learnflow cards import FILE.md` adds your own.")  # fmt: skip
        return
    rows = [
        {"id": c.id, "skill": c.skill, "question": c.question, "origin": c.origin, "due": (c.due or "")[:10],
         "answered": c.answered, "status": c.status}
        for c in found
    ]  # fmt: skip
    render.table(rows, [("id", "ID"), ("skill", "Skill"), ("question", "Question"), ("origin", "From"), ("due", "Due"),
                        ("answered", "Answered"), ("status", "Status")])  # fmt: skip
    render.notice("`learnflow cards edit ID` changes one; `learnflow cards retire ID` stops asking it.")


@cards_app.command("edit")
def cards_edit(
    card_id: Annotated[int, typer.Argument(metavar="ID", help="The card's id (`learnflow cards list`).")],
    question: Annotated[Optional[str], typer.Option("--question", help="The new question.", show_default=False)] = None,
    answer: Annotated[Optional[str], typer.Option("--answer", help="The new reference answer.", show_default=False)] = None,
    keywords: Annotated[
        Optional[str], typer.Option("--keywords", help="The new keywords, comma-separated (an answer must name them).", show_default=False)
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a generated card: with --question/--answer/--keywords, or in $EDITOR (the Markdown card format).

    \b
    Examples:
      learnflow cards edit 3 --answer "Erase every copy, backups included, or anonymise it."
      learnflow cards edit 3 --keywords "every copy, backups"
      learnflow cards edit 3          # opens $EDITOR
    """
    from dataclasses import asdict

    from learnflow.practice import generated
    from learnflow.ui import render

    store = open_store()
    words = None if keywords is None else [k for k in (w.strip() for w in keywords.split(",")) if k]
    if question is None and answer is None and keywords is None:
        question, answer, words = _in_editor(generated.get(store, card_id))
    card = generated.edit(store, card_id, question=question, answer=answer, keywords=words)
    warnings = generated.keyword_warnings(card.answer, card.keywords)
    if json_:
        render.print_json({**asdict(card), "status": card.status, "warnings": warnings})
        return
    render.notice(f"Card #{card.id} ({card.skill}) is now: {card.question}")
    for warning in warnings:
        render.notice(f"Card #{card.id}: {warning}.")


_EDIT_HINT = "Change it with --question/--answer/--keywords instead, or set $EDITOR to an editor that works here."


def _in_editor(card) -> tuple[str, str, list[str]]:
    """The card in $EDITOR as a one-card Markdown deck; what was saved, read with the import's parser."""
    import os
    import sys

    import click  # click.edit is the real click's: its errors are not the app's (typer's vendored click), caught here

    from learnflow.errors import BadInput
    from learnflow.practice.deck import DeckCard, DeckError, parse_markdown, to_markdown

    chosen = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not chosen and not (sys.stdin.isatty() and sys.stdout.isatty()):
        # With no editor named, click falls back to vim or nano, which need a terminal.
        raise BadInput(f"Card #{card.id} not changed: no terminal to open an editor in ($EDITOR is not set).", hint=_EDIT_HINT)
    text = to_markdown([DeckCard(card.skill, card.question, card.answer, card.keywords)])
    try:
        edited = click.edit(text, extension=".md", require_save=True)
    except click.ClickException as exc:  # the editor is missing, or exited with an error
        cause = exc.__cause__
        why = f"it cannot be started ({cause.strerror or cause})" if isinstance(cause, OSError) else "it exited with an error"
        raise BadInput(f"Card #{card.id} not changed: the editor ({chosen or 'vim/nano'}) did not work: {why}.", hint=_EDIT_HINT) from None
    if edited is None:
        raise BadInput(f"Card #{card.id} not changed: the editor closed without saving.")
    try:
        parsed = parse_markdown(edited, f"card #{card.id}")
    except DeckError as exc:
        raise BadInput(f"Card #{card.id} not changed: " + "; ".join(p.message for p in exc.problems) + ".", hint=exc.hint) from None
    if len(parsed) == 1 and parsed[0].skill != card.skill:
        raise BadInput(
            f"Card #{card.id} not changed: a card stays on its skill ({card.skill}); the edit moved it to {parsed[0].skill}.",
            hint=f"To ask it on {parsed[0].skill}: `learnflow cards retire {card.id}`, then `learnflow cards import` a deck with it there.",
        )
    if len(parsed) != 1:
        raise BadInput(f"Card #{card.id} not changed: the file held {len(parsed)} cards; keep one `## question` under `# {card.skill}`.")
    return parsed[0].question, parsed[0].answer, parsed[0].keywords


@cards_app.command("retire")
def cards_retire(
    card_id: Annotated[int, typer.Argument(metavar="ID", help="The card's id (`learnflow cards list`).")],
    json_: JsonOpt = False,
) -> None:
    """Retire a generated card: it is never asked again (the checks answered on it still count)."""
    from dataclasses import asdict

    from learnflow.practice import generated
    from learnflow.ui import render

    card = generated.retire(open_store(), card_id)
    if json_:
        render.print_json({**asdict(card), "status": card.status})
    else:
        render.notice(f"Retired card #{card.id} ({card.skill}): {card.question}")


@cards_app.command("export")
def cards_export(
    format_: Annotated[str, typer.Option("--format", "-F", metavar="FORMAT", help="anki (an .apkg package) or markdown.")],
    output: Annotated[
        Optional[str],
        typer.Option(
            "-o",
            "--output",
            metavar="FILE",
            help="Write here, 0600 (markdown default: stdout; anki: learnflow-cards.apkg).",
            show_default=False,
        ),
    ] = None,
    skill: SkillOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Take your review deck along: every card with a reference answer, as Anki decks or Markdown.

    \b
    Examples:
      learnflow cards export --format anki -o learnflow.apkg
      learnflow cards export --format markdown > deck.md
      learnflow cards export --format markdown --skill gdpr -o gdpr.md
    """
    import sys
    from dataclasses import asdict

    from learnflow.practice import deck
    from learnflow.ui import render

    _skill(skill)
    out = deck.export(open_store(), format_.lower(), output=output, skill=skill)
    if out.path is None:
        from learnflow.controls import strip_controls

        # A model wrote some of these cards: on a terminal its control sequences (titles, clear screen)
        # are made inert, as `cards list` does; to a file or a pipe the deck is written as `cards import` reads it back.
        sys.stdout.write(strip_controls(out.text) if sys.stdout.isatty() else out.text)
    if json_ and out.path is not None:
        render.print_json({k: v for k, v in asdict(out).items() if k != "text"})
        return
    where = out.path or "stdout"
    left = f"; {out.without_answer} card(s) without a reference answer yet were left out" if out.without_answer else ""
    render.notice(f"Wrote {out.cards} card(s) on {len(out.skills)} skill(s) to {where}{left}.")


@cards_app.command("import")
def cards_import(
    file: Annotated[str, typer.Argument(metavar="FILE.md", help="A Markdown deck (the format `cards export --format markdown` writes).")],
    json_: JsonOpt = False,
) -> None:
    """Add the cards of a Markdown deck: checked whole first (file:line), then added at once; cards already there are skipped."""
    from dataclasses import asdict

    from learnflow.practice import deck
    from learnflow.ui import render

    report = deck.import_markdown(open_store(), file)
    if json_:
        render.print_json(asdict(report))
    else:
        render.notice(f"Imported {len(report.added)} new card(s) from {file}"
                      + (f"; {report.skipped} already there" if report.skipped else "") + ". `learnflow check` asks them.")  # fmt: skip
        for warning in report.warnings:
            render.notice(warning)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(cards_app, name="cards", rich_help_panel="Work")
