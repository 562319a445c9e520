"""The readable copy of `/mydata` (SPEC 8): everything stored about a person as a
plain-text document in their language, beside the JSON file.

Headings in words, times local (`TIMEZONE`, `Do., 03.12.2026, 14:00 Uhr`),
statuses and kinds in words, each section listed even when it is empty
("keine"), and the person's own entries of the audit log worded as `/log`
words them (`audit.<object>_<verb>`; an action without wording shows its
name). Plain text (UTF-8, `.txt`) opens on every phone and computer without
an app; the JSON beside it carries the same content for machines.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.dates import format_date, format_when
from bot.render.texts import Texts


class _Writer:
    def __init__(self, texts: Texts, lang: str, tz: ZoneInfo) -> None:
        self.texts, self.lang, self.tz = texts, lang, tz
        self.lines: list[str] = []

    def t(self, key: str, **params: object) -> str:
        return self.texts.plain(self.lang, f"mydata.{key}", **params)

    def word(self, key: str, fallback: object) -> str:
        """A catalog word if there is one (`status_approved`), else the stored value."""
        full = f"mydata.{key}"
        return self.texts.plain(self.lang, full) if full in self.texts.catalogs[self.lang] else str(fallback)

    def when(self, value: object) -> str:
        if not isinstance(value, datetime):
            return self.t("none_time")
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return format_when(aware, self.tz, self.lang)

    def heading(self, key: str) -> None:
        title = self.t(key)
        self.lines += ["", title, "=" * len(title)]

    def items(self, entries: Iterable[str]) -> None:
        written = [f"- {entry}" for entry in entries]
        self.lines += written or [self.t("empty")]

    def field(self, key: str, value: object) -> None:
        self.lines.append(f"{self.t(key)}: {value if value not in (None, '') else self.t('not_given')}")


def readable(texts: Texts, lang: str, data: dict[str, Any], tz: ZoneInfo) -> bytes:
    """The export `bot.core.privacy.my_data` made, as a readable document."""
    w = _Writer(texts, lang, tz)
    w.lines += [w.t("title"), w.t("made_at", when=w.when(data.get("exported_at"))), "", w.t("intro")]
    person = data["person"]
    w.heading("heading_person")
    w.field("name", person.get("display_name"))
    w.field("username", f"@{person['username']}" if person.get("username") else None)
    w.field("organisation", person.get("organisation"))
    w.field("telegram_id", person.get("telegram_id"))
    w.field("language", w.word(f"language_{person.get('language')}", person.get("language")))
    w.field("coordinator", w.t("yes" if person.get("coordinator") else "no"))
    w.field("privacy_acknowledged_at", w.when(person.get("privacy_acknowledged_at")))
    w.field("registered_at", w.when(person.get("registered_at")))
    w.field("first_contact_at", w.when(person.get("first_contact_at")))
    if person.get("unreachable_since"):
        w.field("unreachable_since", w.when(person["unreachable_since"]))

    w.heading("heading_memberships")
    w.items(
        w.t(
            "membership",
            group=m["group"],
            status=w.word(f"status_{m['status']}", m["status"]),
            dates=", ".join(
                w.t(name, when=w.when(m[f"{name}_at"]))
                for name in ("requested", "decided", "left")
                if m.get(f"{name}_at")
            ),
        )
        for m in data["memberships"]
    )
    w.heading("heading_rsvps")
    w.items(
        w.t(
            "rsvp",
            id=r["session"],
            group=r["group"],
            title=r["title"],
            when=w.when(r["starts_at"]),
            answer=w.word(f"answer_{r['answer']}", r["answer"]),
            answered=w.when(r["answered_at"]),
        )
        for r in data["rsvps"]
    )
    w.heading("heading_agenda_items")
    w.items(
        w.t(
            "agenda_item",
            id=i["id"],
            group=i["group"],
            text=i["text"],
            status=w.word(f"item_{i['status']}", i["status"]),
            when=w.when(i["created_at"]),
        )
        for i in data["agenda_items"]
    )
    w.heading("heading_stances")
    w.items(
        w.t(
            "stance",
            id=s["recommendation"],
            stance=w.word(f"stance_{s['stance']}", s["stance"]),
            when=w.when(s["answered_at"]),
        )
        for s in data["stances"]
    )
    w.heading("heading_comments")
    w.items(
        w.t("comment", id=c["recommendation"], text=c["text"], when=w.when(c["created_at"])) for c in data["comments"]
    )
    _followup(w, data)
    _email(w, data)
    w.heading("heading_audit")
    w.lines.append(w.t("audit_intro"))
    w.items(f"{w.when(e['at'])}: {audit_words(texts, lang, e)}" for e in data.get("audit_log", []))
    w.heading("heading_messages")
    w.items(
        w.t(
            "message",
            kind=w.word(f"kind_{m['kind']}", m["kind"]),
            status=w.word(f"delivery_{m['status']}", m["status"]),
            when=w.when(m["sent_at"] or m["due_at"]),
        )
        for m in data["messages_from_the_bot"]
    )
    w.lines += ["", w.t("footer")]
    return ("\n".join(w.lines) + "\n").encode("utf-8")


def _followup(w: _Writer, data: dict[str, Any]) -> None:
    """What follows a session (SPEC 13): attendance, corrections, tasks, deputyships."""
    w.heading("heading_attendance")
    w.items(
        w.t(
            "attendance",
            id=a["session"],
            group=a["group"],
            title=a["title"],
            when=w.when(a["starts_at"]),
            status=w.word(f"attendance_{a['status']}", a["status"]),
        )
        + "".join(
            f", {part}"
            for part in (
                w.t("as_deputy_for", name=a["as_deputy_for"] or w.t("former")) if a["as"] == "deputy" else None,
                w.t("represented_by", name=a["represented_by"]) if a.get("represented_by") else None,
                w.t("checked_in", when=w.when(a["checked_in_at"])) if a.get("checked_in_at") else None,
            )
            if part
        )
        for a in data.get("attendance", [])
    )
    w.heading("heading_corrections")
    w.items(
        w.t(
            "correction",
            id=c["session"],
            group=c["group"],
            title=c["title"],
            text=c["text"],
            when=w.when(c["created_at"]),
        )
        for c in data.get("minutes_corrections", [])
    )
    w.heading("heading_tasks")
    w.items(
        w.t(
            "task",
            id=t["id"],
            group=t["group"],
            text=t["text"],
            due=_day(w, t["due_on"]),
            status=w.word(f"task_{t['status']}", t["status"]),
        )
        + (f", {w.t('done', when=w.when(t['done_at']))}" if t.get("done_at") else "")
        for t in data.get("tasks", [])
    )
    w.heading("heading_deputies")
    w.items(
        w.t(
            f"deputy_as_{d['role']}",
            member=d["member"] or w.t("former"),
            deputy=d["deputy"] or w.t("former"),
            until=w.t("until", day=_day(w, d["until"])) if d.get("until") else w.t("until_ended"),
            dates=", ".join(
                w.t(f"deputy_{name}", when=w.when(d[f"{name}_at"]))
                for name in ("asked", "accepted", "ended")
                if d.get(f"{name}_at")
            ),
        )
        for d in data.get("deputyships", [])
    )


def _email(w: _Writer, data: dict[str, Any]) -> None:
    """SPEC 15: the address, a pending one, the choice, a bounce, and the mails."""
    w.heading("heading_email")
    entry = data.get("email")
    if entry is not None:
        w.field("email_address", entry["address"])
        if entry["address"]:
            w.field("email_confirmed_at", w.when(entry["confirmed_at"]))
            w.field("email_mode", w.texts.plain(w.lang, f"email.mode_{entry['mode']}"))
        if entry["bounced_at"]:
            w.field("email_bounced_at", w.when(entry["bounced_at"]))
        if entry["pending_address"]:
            w.field("email_pending", entry["pending_address"])
            w.field("email_pending_since", w.when(entry["pending_since"]))
    w.items(
        w.t(
            "mail",
            when=w.when(m["sent_at"] or m["created_at"]),
            address=m["address"],
            purpose=w.word(f"mail_{m['purpose']}", m["purpose"]),
            status=w.word(f"delivery_{m['status']}", m["status"]),
        )
        for m in data.get("mails_from_the_bot", [])
    )


def _day(w: _Writer, value: object) -> str:
    return format_date(value, w.lang) if isinstance(value, date) else w.t("none_time")


def audit_words(texts: Texts, lang: str, entry: dict[str, Any]) -> str:
    """One audit entry in words (`audit.<object>_<verb>` with `id` and the entry's
    details); its action name and object when the catalogs have no wording."""
    key = "audit." + str(entry["action"]).replace(".", "_")
    params = {str(name): value for name, value in (entry.get("detail") or {}).items()}
    params["id"] = entry.get("object_id") if entry.get("object_id") is not None else "?"
    if key in texts.catalogs[lang]:
        try:
            return html.unescape(re.sub(r"<[^>]*>", "", texts.plain(lang, key, **params)))
        except (KeyError, IndexError, ValueError):
            pass  # a detail the wording needs is missing: fall back to the name
    number = f" #{entry['object_id']}" if entry.get("object_id") is not None else ""
    return f"{entry['action']} ({entry['object_type']}{number})"
