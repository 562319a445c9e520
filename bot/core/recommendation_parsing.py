"""Reading `/recommend`: its target groups and its deadline (`bot.core.recommendations`).

- The target is `all` (also `alle`), a group (slug, name or unambiguous
  prefix), or a comma-separated list of groups (`ak-eu,ak-ehrenamt`).
- The part after the last `|` is the deadline when it begins with a date
  (`15.12.2026`, `2026-12-15`); otherwise the `|` belongs to the text. A date
  alone means the end of that day (23:59 in the time zone); a deadline that
  is not in the future is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.core.dates import local_datetime, parse_date, parse_time
from bot.core.errors import Refusal
from bot.core.groups import leading_group, require_active, resolve_group
from storage.models import Group

END_OF_DAY = time(23, 59)
"""The time of a deadline given as a date alone."""

_ALL = ("all", "alle")
_DATE_WORD = re.compile(r"\d{1,4}[.-]\d{1,2}(?:[.-]\d{0,4})?")
_GROUP_LIST = re.compile(r"\s*([^\s,]+(?:\s*,\s*[^\s,]+)+)")


@dataclass(frozen=True)
class Targets:
    """The target groups; `everyone` when the coordinator wrote `all`."""

    groups: list[Group]
    everyone: bool = False


def parse_targets(groups: Sequence[Group], text: str) -> tuple[Targets, str]:
    """The target at the start of `/recommend`'s text, and the rest as written."""
    stripped = text.lstrip()
    first = stripped.split(maxsplit=1)[0] if stripped else ""
    if not first:
        raise Refusal("recommendations.usage")
    if first.casefold() in _ALL:
        return Targets(list(groups), everyone=True), stripped[len(first) :]
    if match := _GROUP_LIST.match(text):
        chosen: list[Group] = []
        for name in match.group(1).split(","):
            if name.strip().casefold() in _ALL:
                return Targets(list(groups), everyone=True), text[match.end() :]
            group = _resolve(groups, name.strip())
            if group not in chosen:
                chosen.append(group)
        return Targets(sorted(chosen, key=lambda g: g.id)), text[match.end() :]
    found = leading_group(groups, text)
    if found is None:
        _resolve(groups, first)  # raises with the reason: unknown or ambiguous
        raise Refusal("recommendations.unknown_group", text=first)
    group, rest, _exact = found
    return Targets([group]), rest


def only_active(targets: Targets) -> Targets:
    """The targets read from every group, archived ones included: `all` means the
    active groups; a named archived group is refused ("groups.archived"), rather
    than called unknown."""
    if targets.everyone:
        return Targets([g for g in targets.groups if g.archived_at is None], everyone=True)
    for group in targets.groups:
        require_active(group)
    return targets


def _resolve(groups: Sequence[Group], name: str) -> Group:
    try:
        return resolve_group(groups, name)
    except Refusal as refusal:
        if refusal.key == "groups.ambiguous":
            raise Refusal("recommendations.ambiguous_group", **refusal.params) from None
        raise Refusal("recommendations.unknown_group", text=name) from None


def split_deadline(body: str) -> tuple[str, str | None]:
    """(text, deadline as typed or None): the part after the last `|` is the
    deadline when it begins with a date; a `|` with nothing after it is dropped."""
    head, bar, tail = body.rpartition("|")
    if not bar:
        return body, None
    words = tail.split()
    if not words:
        return head, None
    if _DATE_WORD.fullmatch(words[0]):
        return head, tail.strip()
    return body, None


def parse_deadline(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """`15.12.2026` (end of that day) or `15.12.2026 18:00`, in the future."""
    day_text, *rest = text.split(maxsplit=1)
    day = parse_date(day_text, now.astimezone(tz).date())  # `18.12.`: the next 18 December
    at = parse_time(rest[0]) if rest else END_OF_DAY
    moment = local_datetime(day, at, tz)
    if moment <= now:
        raise Refusal("recommendations.deadline_past", when=moment)
    return moment
