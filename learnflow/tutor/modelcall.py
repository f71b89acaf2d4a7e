"""One-shot calls to the connected model for the coach's side jobs (reflect's narrative,
answer keys, judging, feedback), with a quiet fallback.

A failing model must never cost the person their reflection: every call returns
None on a backend failure or an unreadable reply, records why in `warnings`,
and the caller falls back to the offline way of doing the same job.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from learnflow import prompts
from learnflow.config import Config
from learnflow.errors import BackendError
from learnflow.tutor.choose import Choice, choose, resolve_backend

_OBJECT = re.compile(r"\{.*\}", re.S)


@dataclass
class ModelCall:
    choice: Choice
    config: Config
    warnings: list[str] = field(default_factory=list)
    # The last call's failure, for a caller that must tell an unreachable server (`fallback`) from a refusal.
    last_error: BackendError | None = None

    @classmethod
    def from_config(cls, config: Config | None = None, *, model: str | None = None, backend: str | None = None) -> ModelCall:
        config = config or Config()
        return cls(choose(config, model=model, backend=backend), config)

    @property
    def available(self) -> bool:
        """True when a real model answers (not the offline coach)."""
        return self.choice.backend != "offline" and resolve_backend(self.choice).is_model

    def text(self, prompt: str, *, json_mode: bool = False, **values: object) -> str | None:
        """The model's reply to the prompt file `prompt` filled with `values`; None if it failed."""
        self.last_error = None
        if not self.available:
            return None
        from learnflow.backends import Request
        from learnflow.redact import redact

        # The last gate before a side job's prompt leaves: answers, facts and cards filled in.
        request = Request(
            model=self.choice.model,
            messages=[{"role": "user", "content": redact(prompts.render(prompt, **values)).text}],
            api_base=self.choice.api_base,
            json_mode=json_mode,
            connect_timeout=float(self.config.get("connect_timeout")),
            read_timeout=float(self.config.get("read_timeout")),
        )
        try:
            reply = resolve_backend(self.choice).complete(request=request).strip()
        except BackendError as exc:
            from learnflow.redact import scrub

            self.warnings.append(f"{prompt}: {scrub(exc.message)}")
            self.last_error = exc
            return None
        return reply or None

    def json(self, prompt: str, **values: object) -> dict | None:
        """Like `text`, for prompts that ask for one JSON object; None when the reply is not one."""
        reply = self.text(prompt, json_mode=True, **values)
        if reply is None:
            return None
        found = _OBJECT.search(reply)  # models wrap JSON in prose or fences now and then
        try:
            data = json.loads(found.group(0)) if found else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            # A bad reply, not a failed call: callers tell the two apart by the kind.
            self.last_error = BackendError("the model's reply was not a JSON object", kind="bad_response")
            self.warnings.append(f"{prompt}: the model's reply was not a JSON object")
            return None
        return data
