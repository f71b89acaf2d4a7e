"""xAPI 1.0.3 statements from the log, and evidence back from statements.

What becomes a statement (docs/xapi.md has the shapes):

    interactions (asks)      -> asked          (ADL)
    check_results            -> answered       (ADL; result.success, score, confidence)
    reflections (done)       -> reflected      (learnflow)
    skill_ratings            -> self-assessed  (learnflow; score 1-5)
    mastery per skill        -> progressed     (ADL; result.score.scaled), one per new evidence state
    other evidence sources   -> evidenced      (learnflow)

Statement ids are UUIDv5 under a random per-install namespace kept in the database,
so exporting twice gives the same ids and an LRS stores each statement once.
Every statement carries the evidence rows it produced (a result extension), which
is what `import` turns back into `evidence` rows: the learner model reads nothing
else, so an import into an empty home gives the same profile.

Privacy by default: no question, answer or reflection text unless `include_text`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from learnflow.db import xapi as xapi_db
from learnflow.db.store import Store
from learnflow.errors import BadInput
from learnflow.timespec import iso, iso_ts

NS = "https://learnflow.dev/xapi"
ADL = "http://adlnet.gov/expapi/verbs"
VERBS = {
    "asked": f"{ADL}/asked",
    "answered": f"{ADL}/answered",
    "reflected": f"{NS}/verbs/reflected",
    "self-assessed": f"{NS}/verbs/self-assessed",
    "progressed": f"{ADL}/progressed",
    "evidenced": f"{NS}/verbs/evidenced",
}
VERB_NAMES = {iri: name for name, iri in VERBS.items()}
VOIDED = f"{ADL}/voided"  # xAPI 1.0.3 2.2: the one verb an LRS acts on, by voiding the statement referenced
TYPES = {
    "question": "http://adlnet.gov/expapi/activities/question",
    "profile": "http://adlnet.gov/expapi/activities/profile",
    "skill": f"{NS}/activity-types/skill",
    "reflection": f"{NS}/activity-types/reflection",
}
EXT = {
    name: f"{NS}/extensions/{name}"
    for name in (
        "evidence", "confidence", "review-rating", "judged-by", "level", "mode", "evidence-weight",
        "enough-evidence", "answer", "feedback", "reflection-answers", "period", "source",
    )
}  # fmt: skip
PROFILE = {"objectType": "Activity", "id": f"{NS}/profile", "definition": {"type": TYPES["profile"]}}
SKILL_PREFIX = f"{NS}/skills/"
PSEUDONYM_HOME = f"{NS}/pseudonym"
# Evidence from these tables only travels inside the statement of its source row.
_SOURCES = frozenset({"interactions", "check_results", "reflections", "skill_ratings"})


# -- identity -------------------------------------------------------------------


def _meta(store: Store, key: str, make) -> str:
    value = xapi_db.meta(store, key)
    return value if value is not None else xapi_db.keep_meta(store, key, make())


def namespace(store: Store) -> uuid.UUID:
    """This install's UUID namespace: created once, kept in the log so it moves with it."""
    return uuid.UUID(_meta(store, "namespace", lambda: str(uuid.uuid4())))


def pseudonym(store: Store) -> str:
    """A stable random name for this install: the actor when the user chose none."""
    return _meta(store, "pseudonym", lambda: "lf-" + secrets.token_hex(8))


def resolve_actor(
    store: Store, *, mbox: str | None = None, homepage: str | None = None, account: str | None = None,
    name: str | None = None, config=None,
) -> dict:  # fmt: skip
    """The xAPI actor: flags over config (`xapi_actor_*`) over the install's pseudonym."""
    from learnflow.config import Config

    cfg = config or Config()
    mbox = mbox or cfg.get("xapi_actor_mbox")
    homepage = homepage or cfg.get("xapi_actor_homepage")
    account = account or cfg.get("xapi_actor_account")
    name = name or cfg.get("xapi_actor_name")
    actor: dict[str, Any] = {"objectType": "Agent"}
    if name:
        actor["name"] = str(name)
    if mbox:
        mbox = str(mbox).removeprefix("mailto:")
        if "@" not in mbox or " " in mbox:
            raise BadInput(f"{mbox!r} is not an e-mail address.", hint="Give the actor's e-mail, e.g. --actor-mbox ada@example.com.")
        actor["mbox"] = f"mailto:{mbox}"
    elif account or homepage:
        if not (account and homepage):
            raise BadInput(
                "An account actor needs both a home page and an account name.",
                hint="e.g. --actor-homepage https://sso.example.com --actor-account ada.l (or xapi_actor_homepage / xapi_actor_account).",
            )
        if not str(homepage).startswith(("http://", "https://")):
            raise BadInput(f"The account home page {homepage!r} is not an http(s) URL.")
        actor["account"] = {"homePage": str(homepage), "name": str(account)}
    else:
        actor["account"] = {"homePage": PSEUDONYM_HOME, "name": pseudonym(store)}
    return actor


def actor_key(actor: dict) -> str:
    """One string per person (their inverse functional identifier), to group statements."""
    if not isinstance(actor, dict):
        return "unknown"
    if actor.get("mbox"):
        return str(actor["mbox"]).lower()
    if actor.get("mbox_sha1sum"):
        return "sha1:" + str(actor["mbox_sha1sum"])
    if actor.get("openid"):
        return str(actor["openid"])
    acc = actor.get("account")
    acc = acc if isinstance(acc, dict) else {}
    return f"{acc.get('homePage')}#{acc.get('name')}"


def actor_label(actor: dict) -> str:
    """A short human label: the name, else the e-mail's local part, else the account name."""
    if not isinstance(actor, dict):
        return "unknown"
    if actor.get("name"):
        return str(actor["name"])
    if actor.get("mbox"):
        return str(actor["mbox"]).removeprefix("mailto:").split("@")[0]
    acc = actor.get("account")
    acc = acc if isinstance(acc, dict) else {}
    return str(acc.get("name") or actor_key(actor))


# -- building blocks ----------------------------------------------------------------


def skill_iri(skill: str) -> str:
    """The activity id of a skill (any skill id, percent-encoded)."""
    return SKILL_PREFIX + quote(skill, safe="")


def skill_of_iri(iri: object) -> str | None:
    """The skill a learnflow skill activity id names; None for any other IRI."""
    return unquote(iri[len(SKILL_PREFIX) :]) if isinstance(iri, str) and iri.startswith(SKILL_PREFIX) else None


def _text(value: str | None) -> dict | None:
    """A language map for the person's own words: language unknown ("und")."""
    return {"und": value} if value and value.strip() else None


def _clean(d: dict) -> dict:
    """xAPI forbids empty values outside extensions: drop None, "" and {} (one level, plus score)."""
    out = {k: v for k, v in d.items() if v not in (None, "", {}, [])}
    for key in ("score", "extensions"):
        if key in out:
            out[key] = {k: v for k, v in out[key].items() if v is not None}
    return out


def _duration(ms: float | None) -> str | None:
    return f"PT{ms / 1000:.3f}S" if ms is not None and ms >= 0 else None


def _evidence_ext(rows: list[dict]) -> list[dict]:
    # ts as stored (float seconds): the learner model's daily buckets need it exactly.
    return [{"skill": r["skill"], "kind": r["kind"], "value": r["value"], "ts": r["ts"]} for r in rows]


class _Builder:
    """Builds statements for one export; constant parts (actor, skills, verbs) are built once.

    Statements share those parts (they are never mutated), which keeps 10,000 statements fast.
    """

    def __init__(self, store: Store, actor: dict, include_text: bool):
        from learnflow.learner.skills import taxonomy

        self.store, self.actor, self.text = store, actor, include_text
        self.ns = namespace(store)
        self.names = {sid: s.name for sid, s in taxonomy().items()}
        self._skills: dict[str, dict] = {}
        self._verbs = {v: {"id": iri, "display": {"en": v}} for v, iri in VERBS.items()}
        self._activities: dict[str, dict] = {}

    def sid(self, name: str) -> str:
        return str(uuid.uuid5(self.ns, name))

    def skill(self, skill: str) -> dict:
        act = self._skills.get(skill)
        if act is None:
            act = self._skills[skill] = {
                "objectType": "Activity",
                "id": skill_iri(skill),
                "definition": {"type": TYPES["skill"], "name": {"en": self.names.get(skill, skill)}},
            }
        return act

    def statement(self, sid, verb, obj, timestamp, *, skills=(), result=None, parent=None, context_ext=None) -> dict:
        acts: dict[str, Any] = {"category": [PROFILE]}
        if skills:
            acts["other"] = [self.skill(s) for s in dict.fromkeys(skills)]
        if parent:
            acts["parent"] = [parent]
        context = {"platform": "learnflow", "contextActivities": acts}
        if context_ext:
            context["extensions"] = context_ext
        st = {"id": sid, "actor": self.actor, "verb": self._verbs[verb], "object": obj}
        if result and (result := _clean(result)):
            st["result"] = result
        st["context"] = context
        st["timestamp"] = timestamp
        return st

    def activity(self, kind: str, key: str, type_: str, description: str | None = None) -> dict:
        """An activity with an id unique to this install; `key` names it (e.g. a card shared by reviews)."""
        text = _text(description) if self.text else None
        if not text and key in self._activities:
            return self._activities[key]
        definition: dict[str, Any] = {"type": type_}
        if text:
            definition["description"] = text
        act = {"objectType": "Activity", "id": f"{NS}/activities/{kind}/{self.sid(key)}", "definition": definition}
        if not text:
            self._activities[key] = act
        return act


def _evidence_groups(store: Store) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for id_, ts, skill, kind, value, source, source_id in xapi_db.exportable_evidence(store):
        key = (source, source_id) if source_id is not None else ("evidence-row", id_)
        groups.setdefault(key, []).append({"id": id_, "ts": ts, "skill": skill, "kind": kind, "value": value, "source": source})
    return groups


def build_statements(
    store: Store, actor: dict, *, include_text: bool = False, since: datetime | None = None, snapshots: bool = True
) -> list[dict]:
    """Every statement the log gives, oldest first (imported statements come back as they came)."""
    b = _Builder(store, actor, include_text)
    groups = _evidence_groups(store)
    out = [*_asks(b, groups), *_checks(b, groups), *_ratings(b, groups), *_reflections(b, groups)]
    for (source, source_id), rows in groups.items():
        if source in _SOURCES:
            continue  # its source row is not exported (yet): e.g. an ask still pending
        name = f"evidenced:{source}:{source_id}" if source != "evidence-row" else f"evidenced-row:{source_id}"
        result = {"extensions": {EXT["evidence"]: _evidence_ext(rows), EXT["source"]: rows[0]["source"]}}
        obj = b.skill(rows[0]["skill"])
        out.append(b.statement(b.sid(name), "evidenced", obj, iso_ts(rows[0]["ts"]), skills=[r["skill"] for r in rows], result=result))
    if snapshots:
        out.extend(_snapshots(b))
    out.extend(_imported(store))
    if since is not None:
        cut = iso(since)
        out = [s for s in out if s.get("timestamp", "") >= cut]
    out.sort(key=lambda s: s.get("timestamp", ""))
    return out


def _skills_by(pairs: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for key, skill in pairs:
        out.setdefault(key, []).append(skill)
    return out


def _asks(b: _Builder, groups) -> Iterable[dict]:
    tags = _skills_by(xapi_db.interaction_skills(b.store))
    for r in xapi_db.finished_interactions(b.store):
        ev = groups.get(("interactions", r["id"]), [])
        ext = {EXT["evidence"]: _evidence_ext(ev), EXT["level"]: r["level"], EXT["mode"]: r["mode"]}
        if b.text and r["answer"]:
            ext[EXT["answer"]] = r["answer"]
        result = {"completion": r["status"] == "ok", "duration": _duration(r["latency_ms"]), "extensions": ext}
        sid = b.sid(f"asked:{r['id']}")
        obj: dict[str, Any] = {"objectType": "Activity", "id": f"{NS}/activities/ask/{sid}", "definition": {"type": TYPES["question"]}}
        if b.text and (text := _text(r["question"])):
            obj["definition"] = {**obj["definition"], "description": text}
        yield b.statement(sid, "asked", obj, r["created_at"], skills=tags.get(r["id"], []), result=result)


def _reflection_parent(b: _Builder, reflection_id: int | None) -> dict | None:
    return b.activity("reflection", f"reflection:{reflection_id}", TYPES["reflection"]) if reflection_id else None


def _checks(b: _Builder, groups) -> Iterable[dict]:
    for r in xapi_db.check_results(b.store):
        ext = {
            EXT["evidence"]: _evidence_ext(groups.get(("check_results", r["id"]), [])),
            EXT["confidence"]: r["confidence"],
            EXT["review-rating"]: r["rating"],
            EXT["judged-by"]: r["judge_method"],
        }
        if b.text and r["feedback"]:
            ext[EXT["feedback"]] = r["feedback"]
        result = {
            "success": bool(r["correct"]) if r["correct"] is not None else None,
            "score": {"scaled": round(min(max(float(r["score"]), 0.0), 1.0), 4)} if r["score"] is not None else None,
            "response": r["answer"] if b.text else None,
            "extensions": {k: v for k, v in ext.items() if v is not None},
        }
        card = f"card:{r['review_card_id']}" if r["review_card_id"] else f"check:{r['id']}"
        obj = b.activity("check", card, TYPES["question"], r["question"])
        yield b.statement(
            b.sid(f"answered:{r['id']}"), "answered", obj, r["created_at"], skills=[r["skill"]] if r["skill"] else [],
            result=result, parent=_reflection_parent(b, r["reflection_id"]),
        )  # fmt: skip


def _ratings(b: _Builder, groups) -> Iterable[dict]:
    for r in xapi_db.self_ratings(b.store):
        ev = groups.get(("skill_ratings", r["id"]), [])
        result = {
            "score": {"raw": r["rating"], "min": 1, "max": 5, "scaled": round((r["rating"] - 1) / 4, 4)},
            "extensions": {EXT["evidence"]: _evidence_ext(ev)},
        }
        yield b.statement(
            b.sid(f"self-assessed:{r['id']}"), "self-assessed", b.skill(r["skill"]), r["created_at"],
            skills=[r["skill"]], result=result, parent=_reflection_parent(b, r["reflection_id"]),
        )  # fmt: skip


def _reflections(b: _Builder, groups) -> Iterable[dict]:
    skills = _skills_by(xapi_db.reflection_skills(b.store))
    answers: dict[int, list[dict]] = {}
    if b.text:
        for a in xapi_db.reflection_answers(b.store):
            answers.setdefault(a["reflection_id"], []).append({"step": a["step"], "question": a["question"], "answer": a["answer"]})
    for r in xapi_db.done_reflections(b.store):
        ext: dict[str, Any] = {EXT["evidence"]: _evidence_ext(groups.get(("reflections", r["id"]), []))}
        if b.text:
            ext[EXT["reflection-answers"]] = answers.get(r["id"], [])
            if r["feedback"]:
                ext[EXT["feedback"]] = r["feedback"]
        ms = None
        if r["finished_at"]:
            ms = (parse_time(r["finished_at"]) - parse_time(r["created_at"])).total_seconds() * 1000
        result = {
            "completion": True,
            "duration": _duration(ms),
            "response": r["narrative"] if b.text else None,
            "extensions": ext,
        }
        period = {"start": r["period_start"], "end": r["period_end"]} if r["period_start"] else None
        obj = b.activity("reflection", f"reflection:{r['id']}", TYPES["reflection"])
        yield b.statement(
            b.sid(f"reflected:{r['id']}"), "reflected", obj, r["created_at"], skills=sorted(skills.get(r["id"], [])),
            result=result, context_ext={EXT["period"]: period} if period else None,
        )  # fmt: skip


def _snapshots(b: _Builder) -> Iterable[dict]:
    """Mastery per skill as of its latest evidence: a new snapshot (and id) only when evidence changed."""
    try:
        from learnflow.learner.profile import Params, mastery_for
    except ImportError:  # the learner model is not there: no snapshots, nothing else lost
        return
    params = Params.from_config()
    for skill, count, last_id, last_ts in xapi_db.evidence_per_skill(b.store):
        m = mastery_for(b.store, skill, now=last_ts, params=params)
        result = {
            "score": {"scaled": round(m.mean, 4)},
            "extensions": {
                EXT["evidence-weight"]: round(m.evidence, 4),
                EXT["enough-evidence"]: m.evidence >= params.min_evidence and m.evidence > 0,
            },
        }
        yield b.statement(
            b.sid(f"progressed:{skill}:{count}:{last_id}"), "progressed", b.skill(skill), iso_ts(last_ts),
            skills=[skill], result=result,
        )  # fmt: skip


def _imported(store: Store) -> Iterable[dict]:
    for text in xapi_db.imported_statements(store):
        yield json.loads(text)


def parse_time(value: str) -> datetime:
    """An xAPI or log timestamp as an aware datetime (naive ones are UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def own_ids(store: Store) -> set[str]:
    """Ids this install gives its own statements (cheap: no statement is built)."""
    ns = namespace(store)
    verbs = {"interactions": "asked", "check_results": "answered", "skill_ratings": "self-assessed", "reflections": "reflected"}
    names = [f"{verb}:{i}" for table, verb in verbs.items() for i in xapi_db.row_ids(store, table)]
    sources, loose = xapi_db.evidence_keys(store)
    names += [f"evidenced:{s}:{i}" for s, i in sources]
    names += [f"evidenced-row:{i}" for i in loose]
    names += [f"progressed:{s}:{c}:{m}" for s, c, m, _ in xapi_db.evidence_per_skill(store)]
    return {str(uuid.uuid5(ns, n)) for n in names}


# -- forgetting: statements of forgotten records, and the voiding statements that retract them ------------

# The statement each kind of forgotten row was sent as (names as in the builders above).
_FORGOTTEN_NAMES = {
    "interactions": "asked:{}",
    "check_results": "answered:{}",
    "tasks": "evidenced:tasks:{}",
    "flags": "evidenced:flags:{}",
}


def statement_ids_of(store: Store, ids: dict[str, list[int]]) -> list[str]:
    """The ids of the statements these rows (table -> ids) were, or would be, sent as."""
    ns = namespace(store)
    return [str(uuid.uuid5(ns, name.format(i))) for table, name in _FORGOTTEN_NAMES.items() for i in ids.get(table, [])]


def voiding_id(store: Store, statement_id: str) -> str:
    """The id of the statement voiding `statement_id`: the same every time, so a resent voiding is stored once."""
    return str(uuid.uuid5(namespace(store), f"voided:{statement_id}"))


def voiding_statement(voiding_id: str, statement_id: str, actor: dict, timestamp: str) -> dict:
    """xAPI 1.0.3 2.2: verb `voided`, object a StatementRef to the statement retracted."""
    return {
        "id": voiding_id,
        "actor": actor,
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": statement_id},
        "timestamp": timestamp,
    }
