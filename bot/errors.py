"""Refusals: the expected ways a request can fail, raised by the core.

A `Refusal` carries the catalog key of the polite answer and its parameters;
the handler layer renders it for the person. Because the core raises before
it commits, a refused request never changes anything.
"""

from __future__ import annotations


class Refusal(Exception):
    """The request cannot be done; `key` names the text that says why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class Key(str):
    """A parameter of a Refusal that is itself a catalog key, rendered in the reader's language."""


class CoordinatorsOnly(Refusal):
    def __init__(self) -> None:
        super().__init__("errors.coordinators_only")


class NotRegistered(Refusal):
    def __init__(self) -> None:
        super().__init__("errors.not_registered")
