"""Groups: finding a group from what a person typed (SPEC 1).

`resolve_group` accepts the slug, the name, or an unambiguous prefix of
either, case-insensitively, and ignores spaces, hyphens and a leading
"AK"/"AG" only where the whole text matches no group otherwise
(so `eu` finds AK EU). `all` is handled by the caller where allowed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.errors import Refusal
from storage.models import Group


def _norm(text: str) -> str:
    return re.sub(r"[\s\-_.]+", "", text.casefold())


def _without_kind(text: str) -> str:
    return re.sub(r"^(ak|ag)(?=.)", "", text)


def resolve_group(groups: Sequence[Group], text: str) -> Group:
    """The one group `text` means, or a Refusal naming the problem."""
    wanted = _norm(text)
    if not wanted:
        raise Refusal("groups.unknown", text=text)
    for group in groups:
        if wanted in (_norm(group.slug), _norm(group.name)):
            return group
    for transform in (lambda s: s, _without_kind):
        matches = [
            group
            for group in groups
            if any(transform(_norm(candidate)).startswith(wanted) for candidate in (group.slug, group.name))
        ]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Refusal("groups.ambiguous", text=text, names=", ".join(g.name for g in matches))
    raise Refusal("groups.unknown", text=text)


def leading_group(groups: Sequence[Group], text: str, max_words: int = 3) -> tuple[Group, str, bool] | None:
    """The group the first words of `text` name, for commands like `/agenda eu <text>`.

    Returns (group, the rest of `text` as written, whether the words are the
    group's slug or name rather than only a prefix), trying the longest run
    of words first (`AK EU Bericht` is AK EU); None when no first words name
    exactly one group.
    """
    words = list(re.finditer(r"\S+", text))
    for count in range(min(max_words, len(words)), 0, -1):
        if not any(ch.isalnum() for ch in words[count - 1].group()):
            continue  # `ak-eu - Bericht`: the dash belongs to the text, not to the group's name
        head = text[: words[count - 1].end()]
        try:
            group = resolve_group(groups, head)
        except Refusal:
            continue
        exact = _norm(head) in (_norm(group.slug), _norm(group.name))
        return group, text[words[count - 1].end() :], exact
    return None


def require_active(group: Group) -> None:
    """An archived group takes no new members, sessions, topics or messages (SPEC 1);
    its history stays readable in digests and reports."""
    if group.archived_at is not None:
        raise Refusal("groups.archived", name=group.name)
