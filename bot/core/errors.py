"""Refusals: the expected ways a request can fail, raised by the core.

A `Refusal` carries the catalog key of the polite answer and its parameters;
the handler layer renders it for the person. The edge rolls back whatever the
request did before the refusal, so a refused request changes nothing, with
one exception a person expects: a refusal raised `ending_step()` also ends
the guided step the person was in (the bot stops waiting for their text).

Many refusals repeat what the person typed ("Die Gruppe „…“ kenne ich
nicht"); a text parameter is therefore cut to `PARAM_MAX` characters, so that
a refusal always fits in one Telegram message whatever was sent.
"""

from __future__ import annotations

PARAM_MAX = 200


class Refusal(Exception):
    """The request cannot be done; `key` names the text that says why."""

    ends_step = False
    """The person's guided step ends with this refusal (see `ending_step`)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = {name: _short(value) for name, value in params.items()}

    def ending_step(self) -> Refusal:
        """The same refusal, which also ends the guided step: raise it as
        `raise Refusal(...).ending_step()`, or re-raise a caught one."""
        self.ends_step = True
        return self


def _short(value: object) -> object:
    """A plain text parameter longer than `PARAM_MAX`, cut with "…"; anything else as it is."""
    if type(value) is str and len(value) > PARAM_MAX:
        return value[: PARAM_MAX - 1] + "…"
    return value


class Key(str):
    """A parameter of a Refusal that is itself a catalog key, rendered in the reader's language."""


class CoordinatorsOnly(Refusal):
    def __init__(self) -> None:
        super().__init__("errors.coordinators_only")


class NotRegistered(Refusal):
    def __init__(self) -> None:
        super().__init__("errors.not_registered")
