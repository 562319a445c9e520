"""How a digest reads: one layout, for every format (`bot.render.digest`).

`sections(digest, lang)` lays a `bot.core.digest.Digest` out as sections of
catalog lines (`[digest]` in `bot/render/locales/<lang>/digest.toml`): a title, then
short lines, numbers first, with sub-lines for the sessions, items,
recommendations and comments of a list. The catalog texts contain no markup;
each format adds its own (`bot.render.digest_formats`).

Texts that are not the subject of a line are shortened to one line: items
and recommendations to 80 characters, comments to 120, organisations to 40
(as Telegram counts them), so every line stays short on a phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.dates import format_date, format_when
from bot.core.digest_model import Digest, Feedback, FollowUp, GroupDigest, Names, Overdue, Session
from bot.render.texts import Texts, plural
from bot.render.units import shorten_words
from storage.digest_rows import ItemRow, PersonRow
from storage.followup_models import MinutesStatus
from storage.models import AgendaStatus
from storage.tracking_models import TrackStatus

TEXT_SHOWN = 80
COMMENT_SHOWN = 120
ORGANISATION_SHOWN = 40


@dataclass(frozen=True)
class Line:
    """One catalog text with its parameters; `level` 0 is a line of its own,
    1 an entry of the list above it, 2 a detail of that entry."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)
    level: int = 0


@dataclass(frozen=True)
class Joined:
    """Parameters written one after the other (names: "Ana, Ben")."""

    parts: tuple[object, ...]
    separator: str = ", "


@dataclass(frozen=True)
class Section:
    title: Line | None
    lines: tuple[Line, ...]


# --- the layout ----------------------------------------------------------------------


def _person(person: PersonRow | None, with_organisation: bool = False) -> object:
    if person is None or person.forgotten:
        return Line("digest.former_member")
    if with_organisation and person.organisation:
        return Line(
            "digest.person_organisation",
            {"name": person.name, "organisation": shorten_words(person.organisation, ORGANISATION_SHOWN)},
        )
    return person.name


def _names(names: Names, with_organisation: bool = False) -> object:
    listed = Joined(tuple(_person(p, with_organisation) for p in names.people))
    if names.more:
        return Line("digest.names_more", {"names": listed, "count": names.more})
    return listed


def _day(moment: datetime, tz: str, lang: str) -> str:
    return format_date(moment.astimezone(ZoneInfo(tz)).date(), lang)


def _when(moment: datetime, tz: str, lang: str) -> str:
    return format_when(moment, ZoneInfo(tz), lang)


def _rsvps(session: Session) -> Line:
    return Line("digest.rsvps", {"yes": session.yes, "no": session.no, "maybe": session.maybe})


def _more(count: int) -> list[Line]:
    return [Line("digest.more", {"count": count}, 1)] if count > 0 else []


def header(digest: Digest, lang: str) -> Section:
    scope: object = digest.scope.name if digest.scope else Line("digest.all_groups")
    title = Line("digest.title_weekly" if digest.scheduled else "digest.title", {"scope": scope})
    period = digest.period
    dates = _period_dates(digest, lang)
    if period.days is not None:
        line = Line(plural("digest.period_days", period.days), {"days": period.days, **dates})
    else:
        line = Line("digest.period_since", dates)
    return Section(title, (line,))


def missing(digest: Digest, lang: str) -> Section:
    """What the coordination should act on (see `bot.core.digest`)."""
    gaps = digest.missing
    lines: list[Line] = []
    if gaps.nothing:
        lines.append(Line("digest.missing_none"))
    if gaps.without_agenda_total:
        lines.append(
            Line(
                plural("digest.missing_agenda", gaps.without_agenda_total),
                {"count": gaps.without_agenda_total, "days": digest.coming_days},
            )
        )
        for session in gaps.without_agenda:
            lines.append(Line("digest.session_of_group", _session_params(session, lang), 1))
        lines += _more(gaps.without_agenda_total - len(gaps.without_agenda))
    for unanswered in gaps.unanswered:
        lines.append(
            Line(
                "digest.missing_answers",
                {
                    "id": unanswered.id,
                    "text": shorten_words(unanswered.text, TEXT_SHOWN),
                    "when": _when(unanswered.deadline, digest.timezone, lang),
                },
            )
        )
        lines.append(
            Line(
                plural("digest.not_answered", unanswered.missing.total),
                {"count": unanswered.missing.total, "names": _names(unanswered.missing)},
                1,
            )
        )
    if more := gaps.unanswered_total - len(gaps.unanswered):
        lines.append(Line(plural("digest.missing_answers_more", more), {"count": more}))
    if gaps.few_confirmations_total:
        lines.append(
            Line(
                plural("digest.missing_confirmations", gaps.few_confirmations_total),
                {"count": gaps.few_confirmations_total, "days": digest.few_confirmations_days},
            )
        )
        for shortage in gaps.few_confirmations:
            lines.append(
                Line(
                    "digest.few_confirmations",
                    {
                        **_session_params(shortage.session, lang),
                        "yes": shortage.session.yes,
                        "members": shortage.members,
                    },
                    1,
                )
            )
        lines += _more(gaps.few_confirmations_total - len(gaps.few_confirmations))
    if gaps.followup_total:
        lines.append(Line(plural("digest.missing_followup", gaps.followup_total), {"count": gaps.followup_total}))
    if gaps.overdue_total:
        light = Line("tracking.light_red")
        lines.append(
            Line(plural("digest.missing_overdue", gaps.overdue_total), {"count": gaps.overdue_total, "light": light})
        )
        for row in gaps.overdue:
            lines += _overdue(row, lang)
        lines += _more(gaps.overdue_total - len(gaps.overdue))
    return Section(Line("digest.missing_title"), tuple(lines))


def _overdue(row: Overdue, lang: str) -> list[Line]:
    """An adopted recommendation past its due date (SPEC 14), with the command that updates it."""
    params = {"id": row.id, "text": shorten_words(row.text, TEXT_SHOWN), "date": format_date(row.due_on, lang)}
    status: object = Line(f"tracking.status_{row.status.value}")
    if row.status is TrackStatus.DELAYED and row.delay_reason:
        status = Line(
            "digest.overdue_reason", {"status": status, "reason": shorten_words(row.delay_reason, TEXT_SHOWN)}
        )
    state = {
        "responsible_label": Line("tracking.field_responsible"),
        "responsible": shorten_words(row.responsible, ORGANISATION_SHOWN)
        if row.responsible
        else Line("tracking.not_set"),
        "status_label": Line("tracking.field_status"),
        "status": status,
        "id": row.id,
    }
    return [Line("digest.overdue", params, 1), Line("digest.overdue_state", state, 2)]


_MINUTES_MISSING = {
    None: "digest.followup_no_minutes",
    MinutesStatus.DRAFT: "digest.followup_minutes_draft",
    MinutesStatus.REVIEW: "digest.followup_minutes_review",
}


def _followup(session: FollowUp, lang: str) -> list[Line]:
    """A held session without attendance or approved minutes, with the commands that fix it."""
    params = {"title": session.title, "when": _when(session.starts_at, session.timezone, lang), "id": session.id}
    lines = [Line("digest.followup_session", params, 1)]
    if not session.attendance_taken:
        lines.append(Line("digest.followup_attendance", {"id": session.id}, 2))
    if session.minutes is not MinutesStatus.APPROVED:
        lines.append(Line(_MINUTES_MISSING.get(session.minutes, "digest.followup_no_minutes"), {"id": session.id}, 2))
    return lines


def _session_params(session: Session, lang: str) -> dict[str, object]:
    return {
        "group": session.group,
        "title": session.title,
        "when": _when(session.starts_at, session.timezone, lang),
        "id": session.id,
    }


def _item(item: ItemRow) -> Line:
    key = {AgendaStatus.ACCEPTED: "digest.item_accepted", AgendaStatus.REJECTED: "digest.item_rejected"}.get(
        item.status, "digest.item"
    )
    if item.late:
        key += "_late"  # nachgereicht (SPEC 5)
    return Line(key, {"text": shorten_words(item.text, TEXT_SHOWN), "author": _person(item.author), "id": item.id}, 1)


def _detailed_under(recommendation_id: int, group: GroupDigest, digest: Digest) -> str | None:
    """The earlier group whose section already details this recommendation (one
    to several groups would otherwise repeat the same tally under each)."""
    for other in digest.groups:
        if other.id == group.id:
            return None
        if any(f.id == recommendation_id for f in other.recommendations.shown):
            return other.name
    return None


def _recommendation(feedback: Feedback, digest: Digest, lang: str) -> list[Line]:
    params: dict[str, object] = {"id": feedback.id, "text": shorten_words(feedback.text, TEXT_SHOWN)}
    if feedback.deadline is not None:
        lines = [Line("digest.recommendation", {**params, "when": _when(feedback.deadline, digest.timezone, lang)}, 1)]
    else:
        lines = [Line("digest.recommendation_open_end", params, 1)]
    if not (feedback.agree or feedback.concerns or feedback.reject or feedback.comments):
        return [*lines, Line("digest.no_feedback", {}, 2)]
    tally = {
        "agree": feedback.agree,
        "concerns": feedback.concerns,
        "reject": feedback.reject,
        "comments": feedback.comments,
    }
    if feedback.new:
        lines.append(Line(plural("digest.tally_new", feedback.new), {**tally, "new": feedback.new}, 2))
    else:
        lines.append(Line("digest.tally", tally, 2))
    for comment in feedback.latest:
        lines.append(
            Line(
                "digest.comment",
                {
                    "text": shorten_words(comment.text, COMMENT_SHOWN),
                    "author": _person(comment.author),
                    "date": _day(comment.created_at, digest.timezone, lang),
                },
                2,
            )
        )
    return lines


def group_section(group: GroupDigest, digest: Digest, lang: str) -> Section:
    title = Line(plural("digest.group_title", group.members), {"group": group.name, "count": group.members})
    lines: list[Line] = []
    if group.empty:
        return Section(title, (Line("digest.group_quiet"),))
    for key, names, with_organisation in (
        ("digest.joined", group.joined, True),
        ("digest.left", group.left, False),
        ("digest.pending", group.pending, True),
    ):
        if names.total:
            lines.append(
                Line(plural(key, names.total), {"count": names.total, "names": _names(names, with_organisation)})
            )
    if group.held.total:
        lines.append(Line(plural("digest.held", group.held.total), {"count": group.held.total}))
        for session in group.held.shown:
            lines.append(Line("digest.session_held", {**_session_params(session, lang), "rsvps": _rsvps(session)}, 1))
        lines += _more(group.held.total - len(group.held.shown))
    if group.coming.total:
        lines.append(
            Line(plural("digest.coming", group.coming.total), {"count": group.coming.total, "days": digest.coming_days})
        )
        for session in group.coming.shown:
            agenda = (
                Line(plural("digest.agenda_items", session.agenda), {"count": session.agenda})
                if session.agenda
                else Line("digest.agenda_empty")
            )
            lines.append(
                Line(
                    "digest.session_coming",
                    {**_session_params(session, lang), "rsvps": _rsvps(session), "agenda": agenda},
                    1,
                )
            )
        lines += _more(group.coming.total - len(group.coming.shown))
    if group.items.total:
        lines.append(Line(plural("digest.items", group.items.total), {"count": group.items.total}))
        lines += [_item(item) for item in group.items.shown]
        lines += _more(group.items.total - len(group.items.shown))
    if group.recommendations.total:
        total = group.recommendations.total
        lines.append(Line(plural("digest.recommendations", total), {"count": total}))
        for feedback in group.recommendations.shown:
            earlier = _detailed_under(feedback.id, group, digest)
            if earlier is None:
                lines += _recommendation(feedback, digest, lang)
            else:
                params = {"id": feedback.id, "text": shorten_words(feedback.text, TEXT_SHOWN), "group": earlier}
                lines.append(Line("digest.recommendation_see", params, 1))
        lines += _more(total - len(group.recommendations.shown))
    if group.unreachable.total:
        lines.append(
            Line(
                plural("digest.unreachable", group.unreachable.total),
                {"count": group.unreachable.total, "names": _names(group.unreachable)},
            )
        )
        if group.by_mail:
            lines.append(Line("digest.unreachable_by_mail", {"count": group.by_mail}, 1))
    if group.followup.total:
        lines.append(Line(plural("digest.group_missing", group.followup.total), {"count": group.followup.total}))
        for gap in group.followup.shown:
            lines += _followup(gap, lang)
        lines += _more(group.followup.total - len(group.followup.shown))
    return Section(title, tuple(lines))


def sections(digest: Digest, lang: str) -> list[Section]:
    """The whole digest: the header, "Was fehlt", then one section per group."""
    return [header(digest, lang), missing(digest, lang), *(group_section(g, digest, lang) for g in digest.groups)]


def summary_line(group: GroupDigest) -> Line:
    """One line of numbers for a group (for the first message of a digest sent as a file)."""
    numbers: list[object] = [Line(plural("digest.sum_members", group.members), {"count": group.members})]
    for key, count in (
        ("digest.sum_joined", group.joined.total),
        ("digest.sum_left", group.left.total),
        ("digest.sum_pending", group.pending.total),
        ("digest.sum_held", group.held.total),
        ("digest.sum_coming", group.coming.total),
        ("digest.sum_items", group.items.total),
        ("digest.sum_recommendations", group.recommendations.total),
        ("digest.sum_unreachable", group.unreachable.total),
        ("digest.sum_missing", group.followup.total),
    ):
        if count:
            numbers.append(Line(plural(key, count), {"count": count}))
    return Line("digest.summary_line", {"group": group.name, "numbers": Joined(tuple(numbers), " · ")})


def summary(digest: Digest, lang: str) -> list[Section]:
    """The short form: the header, "Was fehlt", and one line of numbers per group."""
    lines = tuple(summary_line(g) for g in digest.groups) + (Line("digest.see_document"),)
    return [header(digest, lang), missing(digest, lang), Section(Line("digest.summary_title"), lines)]


def _period_dates(digest: Digest, lang: str) -> dict[str, object]:
    return {
        "start": _day(digest.period.start, digest.timezone, lang),
        "end": _day(digest.period.end, digest.timezone, lang),
    }


def nothing_new(digest: Digest, lang: str) -> Line:
    """The one line of a scheduled digest with nothing new."""
    return Line("digest.nothing_new", _period_dates(digest, lang))


def document_caption(digest: Digest, lang: str) -> Line:
    return Line("digest.document_caption", _period_dates(digest, lang))


def document_name(texts: Texts, lang: str, digest: Digest) -> str:
    """`kim-uebersicht-2026-12-07.md`: the local date the period ends."""
    day = digest.period.end.astimezone(ZoneInfo(digest.timezone)).date()
    return texts.plain(lang, "digest.filename", date=day.isoformat())
