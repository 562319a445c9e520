"""Recommendations and feedback (SPEC 6).

The steering circle's recommendations (Empfehlungen) are put to the members
of their target groups by the KIM coordination; each member answers with a
stance (Zustimmung / Bedenken / Ablehnung) and as many comments as they
want. Rules that live here:

- Only coordinators publish and close recommendations.
- `/recommend <group|all> <text> | <date> [<HH:MM>]`: the target is `all`
  (also `alle`), a group (slug, name or unambiguous prefix), or a
  comma-separated list of groups (`ak-eu,ak-ehrenamt`). The part after the
  last `|` is the deadline when it begins with a date (`15.12.2026`,
  `2026-12-15`); otherwise the `|` belongs to the text. A date alone means
  the end of that day (23:59 in TIMEZONE); a deadline that is not in the
  future is refused. Without a deadline a recommendation is open until it is
  closed, and there is no reminder.
- Text 1..3000 characters and the outcome note 1..2000, both also counted
  as Telegram counts them (UTF-16 code units: an emoji counts twice), so
  the message whose subject they are always fits; comments 1..2000
  characters (they are only ever shown shortened to others). Lines and
  spacing are kept as written (`bot.core.text.free_text`).
- The guided form (`/recommend` alone, or `/recommend <group>` alone) asks
  for the text (and optional `| deadline`), then shows a preview: the card
  as members will see it, and how many people will get it, with "Senden"
  and "Abbrechen". Nothing is sent before "Senden"; a new text replaces the
  prepared one. The one-line form publishes at once.
- Publishing owes every reachable approved member of the target groups one
  message (a person in two target groups gets one), and, with a deadline,
  one reminder at a daytime hour before it (09:00 the day before the
  deadline's day; the rule is in `bot.core.recommendation_screening`), and
  the publishing coordinator a message when the deadline has passed
  (close / remind the silent / extend: `bot.core.recommendation_deadlines`).
  These are delivery records sent by the same paced sender as session
  reminders, written in the same transaction as the recommendation.
- Someone who joins a target group after it went out (a late joiner) is
  sent it *nachträglich* while it still takes answers, and counts among
  those asked only from then (`plan`, `bot.core.recommendation_deadlines`);
  a planner of the recommendations, not a hook in the membership code.
- Who may answer: an approved member of a target group at the time of
  answering; only while the recommendation is open and before the deadline
  (the one boundary rule: `recommendation_screening.before_deadline`). A
  coordinator who is not in a target group may not answer.
- An archived group takes no recommendations: `all` means the active
  groups, and naming an archived one is refused ("groups.archived").
- Audit entries: recommendation.publish, recommendation.close (and
  recommendation.extend in `bot.core.recommendation_deadlines`).
- One stance per member; the latest counts. Comments: as many as wanted.
- "Answered" is a stance or a comment. The reminder a day before the
  deadline goes only to members who have not answered and still belong to a
  target group; `/feedback` lists only what is still unanswered.
- Closing asks for the result, then takes an outcome note; everyone who
  answered is owed one message with the outcome and the final tally
  (`bot.core.recommendation_closing`).

Every function checks before it changes anything and commits once at the
end; a `Refusal` means nothing was saved. The one exception is a guided
step that can no longer succeed (the recommendation closed or its deadline
passed while the bot waited for a comment): the step is ended and saved,
then the refusal says why.

Reading `/recommend` is in `bot.core.recommendation_parsing`; when a
recommendation takes answers, and which of its messages are still sent when
due (`screen_due`), in `bot.core.recommendation_screening`; late joiners and
what follows a deadline in `bot.core.recommendation_deadlines`; what the use cases return in
`bot.core.recommendation_views`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import cast

from bot.core import audit, recommendation_deadlines, steps
from bot.core.config import Settings
from bot.core.errors import Refusal
from bot.core.people import require_coordinator
from bot.core.recommendation_parsing import Targets, only_active, parse_deadline, parse_targets, split_deadline
from bot.core.recommendation_screening import (
    answer_refusal,
    closes_at,
    owed,
    reminder_time,
    takes_answers,
)
from bot.core.recommendation_screening import screen_due as screen_due  # the timer asks this module
from bot.core.recommendation_views import (
    Commented,
    MemberView,
    OpenList,
    Overview,
    Prepared,
    Published,
    StanceGiven,
    TextWanted,
    Waiting,
)
from bot.core.steps import Step
from bot.core.text import free_text, telegram_length
from storage.models import (
    COMMENT_MAX,
    OUTCOME_MAX,
    RECOMMENDATION_TEXT_MAX,
    Comment,
    DeliveryKind,
    Person,
    Recommendation,
    RecommendationStatus,
    Stance,
    StanceValue,
)
from storage.uow import UnitOfWork

STANCES = {value.value: value for value in StanceValue}
LIST_LIMIT = 10
"""At most this many recommendations in one /feedback answer."""
LATEST_COMMENTS = 5

_ID = re.compile(r"#?(\d{1,9})")


# --- texts -----------------------------------------------------------------


def parse_id(text: str) -> int:
    """`7` or `#7`."""
    match = _ID.fullmatch(text.strip())
    if match is None:
        raise Refusal("recommendations.bad_id", value=text.strip()[:40])
    return int(match.group(1))


def recommendation_text(text: str) -> str:
    value = free_text(text, RECOMMENDATION_TEXT_MAX, "recommendations.text")
    if (length := telegram_length(value)) > RECOMMENDATION_TEXT_MAX:
        raise Refusal("recommendations.text_too_long", max=RECOMMENDATION_TEXT_MAX, length=length)
    return value


def outcome_text(text: str) -> str:
    value = free_text(text, OUTCOME_MAX, "recommendations.outcome")
    if (length := telegram_length(value)) > OUTCOME_MAX:
        raise Refusal("recommendations.outcome_too_long", max=OUTCOME_MAX, length=length)
    return value


def comment_text(text: str, recommendation_id: int) -> str:
    try:
        return free_text(text, COMMENT_MAX, "recommendations.comment")
    except Refusal as refusal:
        raise Refusal(refusal.key, id=recommendation_id, **refusal.params) from None


# --- publishing ------------------------------------------------------------


async def recommend(
    uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime
) -> Published | TextWanted:
    """`/recommend <group|all|g1,g2> [<text> [| <deadline>]]`."""
    require_coordinator(coordinator, settings)
    targets, body = parse_targets(await uow.groups.including_archived(), text)
    targets = only_active(targets)
    if not body.strip():
        await _wait_for_text(uow, coordinator, targets)
        return TextWanted(targets)
    return await publish(uow, coordinator, targets, body, settings, now)


async def start_guided(uow: UnitOfWork, coordinator: Person, group_id: int, settings: Settings) -> Targets:
    """Guided /recommend, the target chosen by button (0: all groups): wait for the text."""
    require_coordinator(coordinator, settings)
    groups = await uow.groups.active()
    if group_id == 0:
        targets = Targets(list(groups), everyone=True)
    else:
        group = next((g for g in groups if g.id == group_id), None)
        if group is None:
            raise Refusal("buttons.stale")
        targets = Targets([group])
    await _wait_for_text(uow, coordinator, targets)
    return targets


async def _wait_for_text(uow: UnitOfWork, coordinator: Person, targets: Targets) -> None:
    steps.ask(
        coordinator, Step.RECOMMENDATION_TEXT, {"all": targets.everyone, "groups": [g.id for g in targets.groups]}
    )
    await uow.flush()


async def submit_guided(uow: UnitOfWork, coordinator: Person, text: str, settings: Settings, now: datetime) -> Prepared:
    """The text (and optional `| deadline`) after the target was chosen: checked and
    kept for the preview; nothing is sent before "Senden". A refusal (too long, a
    past deadline) keeps the bot waiting for a better text."""
    require_coordinator(coordinator, settings)
    targets = await _kept_targets(uow, coordinator)
    prepared = await _prepare(uow, targets, text, settings, now)
    prepared.version = steps.recall_id(coordinator, "version") + 1
    steps.remember(coordinator, {**(coordinator.awaiting_data or {}), "text": text, "version": prepared.version})
    await uow.flush()
    return prepared


async def _kept_targets(uow: UnitOfWork, coordinator: Person) -> Targets:
    groups = await uow.groups.active()
    if steps.recall(coordinator, "all"):
        return Targets(list(groups), everyone=True)
    # the ids `_wait_for_text` kept (a JSON list of ints)
    wanted = {int(i) for i in cast("list[int]", steps.recall(coordinator, "groups", []) or [])}
    targets = Targets([g for g in groups if g.id in wanted])
    if not targets.groups:
        raise Refusal("recommendations.target_gone").ending_step()
    return targets


async def _prepare(uow: UnitOfWork, targets: Targets, body: str, settings: Settings, now: datetime) -> Prepared:
    text_part, deadline_text = split_deadline(body)
    text = recommendation_text(text_part)
    deadline = parse_deadline(deadline_text, settings.timezone, now) if deadline_text else None
    recipients = await uow.memberships.reachable_members(g.id for g in targets.groups)
    return Prepared(targets, text, deadline, len(recipients))


def _require_preview(coordinator: Person, version: int) -> str:
    """The prepared text, if `version` is the preview shown last."""
    body = steps.recall(coordinator, "text")
    if steps.current(coordinator) is not Step.RECOMMENDATION_TEXT or not isinstance(body, str):
        raise Refusal("recommendations.nothing_prepared")
    if steps.recall_id(coordinator, "version") != version:
        raise Refusal("recommendations.preview_outdated")
    return body


async def send_prepared(
    uow: UnitOfWork, coordinator: Person, version: int, settings: Settings, now: datetime
) -> Published:
    """Senden under the preview: publish what was prepared (only from the newest preview)."""
    require_coordinator(coordinator, settings)
    body = _require_preview(coordinator, version)
    targets = await _kept_targets(uow, coordinator)
    try:
        return await publish(uow, coordinator, targets, body, settings, now)
    except Refusal as refusal:
        raise refusal.ending_step() from None


async def cancel_prepared(uow: UnitOfWork, coordinator: Person, version: int, settings: Settings) -> None:
    """Abbrechen under the preview: nothing is sent, the step ends."""
    require_coordinator(coordinator, settings)
    _require_preview(coordinator, version)
    steps.end(coordinator)
    await uow.flush()


async def publish(
    uow: UnitOfWork, coordinator: Person, targets: Targets, body: str, settings: Settings, now: datetime
) -> Published:
    """Create the recommendation and owe its messages, in one transaction."""
    require_coordinator(coordinator, settings)
    if not targets.groups:
        raise Refusal("recommendations.usage")
    prepared = await _prepare(uow, targets, body, settings, now)
    deadline = prepared.deadline
    recommendation = Recommendation(
        text=prepared.text,
        deadline=deadline,
        status=RecommendationStatus.OPEN,
        created_by_id=coordinator.id,
        created_at=now,
        groups=list(targets.groups),
    )
    uow.recommendations.add(recommendation)
    await uow.recommendations.flush()
    person_ids = await uow.memberships.reachable_members(g.id for g in targets.groups)
    rows = [owed(recommendation.id, person_id, DeliveryKind.RECOMMENDATION, now) for person_id in person_ids]
    if deadline is not None:
        if (remind_at := reminder_time(deadline, settings.timezone, now)) is not None:
            rows += [
                owed(recommendation.id, person_id, DeliveryKind.FEEDBACK_DUE, remind_at) for person_id in person_ids
            ]
        rows.append(owed(recommendation.id, coordinator.id, DeliveryKind.DEADLINE_PASSED, closes_at(deadline)))
    await uow.deliveries.insert_many(rows)
    audit.record(
        uow,
        coordinator,
        "recommendation.publish",
        "recommendation",
        recommendation.id,
        now,
        groups=", ".join(g.name for g in targets.groups),
        recipients=len(person_ids),
    )
    steps.end(coordinator)
    await uow.flush()
    return Published(recommendation, len(person_ids))


async def plan(uow: UnitOfWork, settings: Settings, now: datetime) -> int:
    """The timer's planner: the late joiners' messages (`recommendation_deadlines.plan_late`)."""
    return await recommendation_deadlines.plan_late(uow, settings, now)


# --- answering -------------------------------------------------------------


async def _known(uow: UnitOfWork, recommendation_id: int) -> Recommendation:
    recommendation = await uow.recommendations.get(recommendation_id)
    if recommendation is None:
        raise Refusal("recommendations.unknown", id=recommendation_id)
    return recommendation


async def _targeting(uow: UnitOfWork, person: Person, recommendation_id: int) -> Recommendation:
    """The recommendation, if the person is an approved member of one of its target groups."""
    recommendation = await _known(uow, recommendation_id)
    if not await uow.recommendations.is_target_member(recommendation.id, person.id):
        raise _not_target(recommendation)
    return recommendation


def _not_target(recommendation: Recommendation) -> Refusal:
    """The refusal for someone outside the target groups; it names them (loaded)."""
    return Refusal(
        "recommendations.not_target",
        id=recommendation.id,
        groups=", ".join(g.name for g in recommendation.groups),
    )


async def _answerable(uow: UnitOfWork, person: Person, recommendation_id: int, now: datetime) -> Recommendation:
    """The recommendation, if this person may answer it now; else a Refusal saying why."""
    recommendation = await _targeting(uow, person, recommendation_id)
    if (refusal := answer_refusal(recommendation, now)) is not None:
        raise refusal
    return recommendation


async def give_stance(
    uow: UnitOfWork, person: Person, recommendation_id: int, stance: str, now: datetime
) -> StanceGiven:
    """Record the person's stance, or replace it (the latest counts)."""
    value = STANCES.get(stance)
    if value is None:
        raise Refusal("buttons.stale")
    # The checks of `_answerable` and the stance so far, read together (a press is frequent).
    found = await uow.recommendations.for_answer(recommendation_id, person.id)
    if found is None:
        raise Refusal("recommendations.unknown", id=recommendation_id)
    recommendation, target, current = found
    if not target:
        raise _not_target(await _known(uow, recommendation.id))  # with its groups, to name them
    if (refusal := answer_refusal(recommendation, now)) is not None:
        raise refusal
    if current is not None and current.value is value:
        return StanceGiven(recommendation, value, changed=False)
    if current is None:
        await uow.recommendations.insert(
            Stance(recommendation_id=recommendation.id, person_id=person.id, value=value, answered_at=now)
        )
    else:
        current.value, current.answered_at = value, now
        await uow.flush()
    return StanceGiven(recommendation, value, changed=True)


async def start_comment(uow: UnitOfWork, person: Person, recommendation_id: int, now: datetime) -> Recommendation:
    """The Kommentar button: the person's next text is the comment."""
    recommendation = await _answerable(uow, person, recommendation_id, now)
    steps.ask(person, Step.RECOMMENDATION_COMMENT, {"recommendation": recommendation.id})
    await uow.flush()
    return recommendation


async def submit_comment(uow: UnitOfWork, person: Person, text: str, now: datetime) -> Commented:
    """The text after the Kommentar button. Too long or empty: refused, and
    the bot keeps waiting, so the person can send it again."""
    recommendation_id = steps.recall_id(person, "recommendation")
    try:
        recommendation = await _answerable(uow, person, recommendation_id, now)
    except Refusal as refusal:
        raise refusal.ending_step() from None
    return await _comment(uow, person, recommendation, text, now)


async def add_comment(uow: UnitOfWork, person: Person, recommendation_id: int, text: str, now: datetime) -> Commented:
    """`/feedback <id> <text>`."""
    recommendation = await _answerable(uow, person, recommendation_id, now)
    return await _comment(uow, person, recommendation, text, now)


async def _comment(
    uow: UnitOfWork, person: Person, recommendation: Recommendation, text: str, now: datetime
) -> Commented:
    value = comment_text(text, recommendation.id)
    uow.recommendations.add(
        Comment(recommendation_id=recommendation.id, person_id=person.id, text=value, created_at=now)
    )
    steps.end(person)
    stance = await uow.recommendations.stance(recommendation.id, person.id)
    await uow.flush()
    return Commented(recommendation, stance.value if stance else None)


# --- what a member sees ----------------------------------------------------


async def waiting_for(uow: UnitOfWork, person: Person, now: datetime, limit: int = LIST_LIMIT) -> Waiting:
    """Open recommendations to the person's groups they have not answered, deadline not passed."""
    found, total = await uow.recommendations.waiting_for(person.id, now, limit)
    return Waiting(found, total)


async def member_view(uow: UnitOfWork, person: Person, recommendation_id: int, now: datetime) -> MemberView:
    """`/feedback <id>` for a member of a target group: the card, and whether they may still answer."""
    recommendation = await _targeting(uow, person, recommendation_id)
    stance = await uow.recommendations.stance(recommendation.id, person.id)
    comments = await uow.recommendations.comment_count_of(recommendation.id, person.id)
    answerable = takes_answers(recommendation, now)
    return MemberView(recommendation, stance.value if stance else None, comments, answerable)


# --- the coordination's view -----------------------------------------------


async def overview(uow: UnitOfWork, coordinator: Person, recommendation_id: int, settings: Settings) -> Overview:
    """One recommendation's feedback: tally, who has not answered, the latest comments."""
    require_coordinator(coordinator, settings)
    recommendation = await _known(uow, recommendation_id)
    ids = [recommendation.id]
    members, answered = (await uow.recommendations.member_counts(ids))[recommendation.id]
    return Overview(
        recommendation,
        (await uow.recommendations.tallies(ids))[recommendation.id],
        members,
        answered,
        (await uow.recommendations.comment_counts(ids))[recommendation.id],
        await uow.recommendations.latest_comments(recommendation.id, LATEST_COMMENTS),
    )


async def open_overviews(uow: UnitOfWork, coordinator: Person, settings: Settings, limit: int = LIST_LIMIT) -> OpenList:
    """The open recommendations (newest first) with their tallies, for `/feedback`."""
    require_coordinator(coordinator, settings)
    found, total = await uow.recommendations.open_ones(limit)
    ids = [r.id for r in found]
    tallies = await uow.recommendations.tallies(ids)
    counts = await uow.recommendations.member_counts(ids)
    comments = await uow.recommendations.comment_counts(ids)
    return OpenList(
        [Overview(r, tallies[r.id], *counts[r.id], comments[r.id]) for r in found],
        total,
    )
