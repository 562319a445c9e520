"""A digest written out: Telegram HTML, plain text, Markdown, or JSON.

The layout (`bot.render.digest_layout`) holds catalog lines without markup;
each format adds its own (bold titles for Telegram, `##` for Markdown, an
underline for the terminal) and escapes every parameter its own way, so a
name or comment can never break the markup. JSON (`to_json`) is built from
the data itself, with full texts and ISO 8601 dates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.core.digest_model import Digest, GroupDigest, Names, Session
from bot.render.digest_layout import Joined, Line, Section, sections
from bot.render.texts import Texts, escape
from storage.digest_rows import PersonRow

# --- writing it out ----------------------------------------------------------------------


class Writer:
    """Fills catalog lines for one format: `escape` makes a parameter safe in it."""

    def __init__(self, texts: Texts, lang: str, escape: Callable[[str], str]) -> None:
        self.texts = texts
        self.lang = lang
        self.escape = escape

    def value(self, value: object) -> str:
        if isinstance(value, Line):
            return self.line(value)
        if isinstance(value, Joined):
            return value.separator.join(self.value(part) for part in value.parts)
        return self.escape(str(value))

    def line(self, line: Line) -> str:
        return self.texts.plain(self.lang, line.key, **{name: self.value(v) for name, v in line.params.items()})


def html_writer(texts: Texts, lang: str) -> Writer:
    return Writer(texts, lang, escape)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def markdown_escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def to_text(texts: Texts, lang: str, digest: Digest) -> str:
    """Plain text for the terminal and e-mail: titles underlined, entries indented."""
    writer = Writer(texts, lang, lambda text: text)
    indent = {0: "", 1: "  - ", 2: "      "}
    blocks = []
    for number, section in enumerate(sections(digest, lang)):
        lines = []
        if section.title is not None:
            title = writer.line(section.title)
            lines += [title, ("=" if number == 0 else "-") * len(title)]
        lines += [indent[line.level] + writer.line(line) for line in section.lines]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def to_markdown(texts: Texts, lang: str, digest: Digest, parts: list[Section] | None = None) -> str:
    """Markdown (the document in Telegram, `--format md`): `#` titles, nested lists."""
    writer = Writer(texts, lang, markdown_escape)
    out: list[str] = []
    for number, section in enumerate(parts if parts is not None else sections(digest, lang)):
        if section.title is not None:
            out += ["", ("# " if number == 0 else "## ") + writer.line(section.title), ""]
        previous = 0
        for line in section.lines:
            text = writer.line(line)
            if line.level == 0:
                out += ["", text] if previous else [text]
                out.append("")
            else:
                out.append("  " * (line.level - 1) + "- " + text)
            previous = line.level
    document = "\n".join(out).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", document) + "\n"


# --- JSON ----------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _people_json(names: Names) -> dict[str, Any]:
    return {
        "total": names.total,
        "shown": [
            {"name": None if p.forgotten else p.name, "organisation": None if p.forgotten else p.organisation}
            for p in names.people
        ],
    }


def _session_json(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "group": session.group,
        "title": session.title,
        "starts_at": _iso(session.starts_at),
        "rsvps": {"yes": session.yes, "no": session.no, "maybe": session.maybe},
        "agenda_items": session.agenda,
    }


def _author(person: PersonRow | None) -> str | None:
    return None if person is None or person.forgotten else person.name


def _group_json(group: GroupDigest) -> dict[str, Any]:
    return {
        "slug": group.slug,
        "name": group.name,
        "members": group.members,
        "joined": _people_json(group.joined),
        "left": _people_json(group.left),
        "pending": _people_json(group.pending),
        "unreachable": _people_json(group.unreachable),
        "unreachable_by_mail": group.by_mail,
        "sessions_held": {"total": group.held.total, "shown": [_session_json(s) for s in group.held.shown]},
        "sessions_coming": {"total": group.coming.total, "shown": [_session_json(s) for s in group.coming.shown]},
        "new_agenda_items": {
            "total": group.items.total,
            "shown": [
                {
                    "id": item.id,
                    "text": item.text,
                    "status": item.status.value,
                    "author": _author(item.author),
                    "created_at": _iso(item.created_at),
                }
                for item in group.items.shown
            ],
        },
        "open_recommendations": {
            "total": group.recommendations.total,
            "shown": [
                {
                    "id": f.id,
                    "text": f.text,
                    "deadline": _iso(f.deadline),
                    "tally": {"agree": f.agree, "concerns": f.concerns, "reject": f.reject},
                    "comments": f.comments,
                    "new_feedback": f.new,
                    "latest_comments": [
                        {"author": _author(c.author), "text": c.text, "created_at": _iso(c.created_at)}
                        for c in f.latest
                    ],
                }
                for f in group.recommendations.shown
            ],
        },
        "sessions_without_followup": {
            "total": group.followup.total,
            "shown": [
                {
                    "id": f.id,
                    "title": f.title,
                    "starts_at": _iso(f.starts_at),
                    "attendance_taken": f.attendance_taken,
                    "minutes": f.minutes.value if f.minutes else None,
                }
                for f in group.followup.shown
            ],
        },
    }


def to_json(digest: Digest) -> str:
    """The digest for machines: every number, full texts, dates in ISO 8601 (UTC)."""
    gaps = digest.missing
    data = {
        "generated_at": _iso(digest.generated_at),
        "timezone": digest.timezone,
        "group": {"slug": digest.scope.slug, "name": digest.scope.name} if digest.scope else None,
        "period": {
            "start": _iso(digest.period.start),
            "end": _iso(digest.period.end),
            "days": digest.period.days,
            "since": digest.period.since.isoformat() if digest.period.since else None,
        },
        "nothing_new": digest.nothing_new,
        "new_feedback": digest.new_feedback,
        "missing": {
            "sessions_without_agenda": {
                "within_days": digest.coming_days,
                "total": gaps.without_agenda_total,
                "shown": [_session_json(s) for s in gaps.without_agenda],
            },
            "unanswered_recommendations": {
                "within_days": digest.deadline_days,
                "total": gaps.unanswered_total,
                "shown": [
                    {"id": u.id, "text": u.text, "deadline": _iso(u.deadline), "not_answered": _people_json(u.missing)}
                    for u in gaps.unanswered
                ],
            },
            "few_confirmations": {
                "within_days": digest.few_confirmations_days,
                "total": gaps.few_confirmations_total,
                "shown": [{**_session_json(s.session), "members": s.members} for s in gaps.few_confirmations],
            },
            "sessions_without_followup": {"total": gaps.followup_total},
            "overdue_recommendations": {
                "total": gaps.overdue_total,
                "shown": [
                    {
                        "id": o.id,
                        "text": o.text,
                        "responsible": o.responsible,
                        "due_on": o.due_on.isoformat(),
                        "status": o.status.value,
                        "delay_reason": o.delay_reason,
                    }
                    for o in gaps.overdue
                ],
            },
        },
        "groups": [_group_json(g) for g in digest.groups],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
