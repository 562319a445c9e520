"""Commands: which commands exist, who may use them, and their German aliases.

`/help` and Telegram's command menu are both built from `COMMANDS`, so the
list a person sees is exactly what they may use. Each entry's description and
example live in the catalogs under `help.<name>` and `help.<name>_example`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.people import Role


@dataclass(frozen=True)
class Command:
    name: str
    role: Role
    aliases: tuple[str, ...] = ()


COMMANDS: tuple[Command, ...] = (
    Command("start", Role.GUEST),
    Command("help", Role.GUEST, ("hilfe",)),
    Command("groups", Role.GUEST, ("gruppen",)),
    Command("join", Role.GUEST, ("beitreten",)),
    Command("leave", Role.MEMBER, ("austreten",)),
    Command("meetings", Role.MEMBER, ("sitzungen", "termine")),
    Command("agenda", Role.MEMBER, ("tagesordnung", "thema")),
    Command("feedback", Role.MEMBER, ("rueckmeldung",)),
    Command("here", Role.MEMBER, ("hier", "da")),
    Command("tasks", Role.MEMBER, ("aufgaben",)),
    Command("deputy", Role.MEMBER, ("vertretung",)),
    Command("language", Role.GUEST, ("sprache",)),
    Command("profile", Role.GUEST, ("profil",)),
    Command("email", Role.GUEST, ("mail",)),
    Command("mydata", Role.GUEST, ("meinedaten",)),
    Command("forget", Role.GUEST, ("vergessen",)),
    Command("pending", Role.COORDINATOR, ("anfragen",)),
    Command("approve", Role.COORDINATOR, ("annehmen",)),
    Command("reject", Role.COORDINATOR, ("ablehnen",)),
    Command("members", Role.COORDINATOR, ("mitglieder",)),
    Command("invite", Role.COORDINATOR, ("einladen",)),
    Command("remove", Role.COORDINATOR, ("entfernen",)),
    Command("addgroup", Role.COORDINATOR, ("neuegruppe",)),
    Command("renamegroup", Role.COORDINATOR, ("umbenennen",)),
    Command("archivegroup", Role.COORDINATOR, ("archivieren",)),
    Command("promote", Role.COORDINATOR, ("ernennen",)),
    Command("demote", Role.COORDINATOR, ("abberufen",)),
    Command("log", Role.COORDINATOR, ("protokoll",)),
    Command("meeting", Role.COORDINATOR, ("sitzung",)),
    Command("reschedule", Role.COORDINATOR, ("verschieben",)),
    Command("cancel", Role.COORDINATOR, ("absagen",)),
    Command("recommend", Role.COORDINATOR, ("empfehlung", "empfehlen")),
    Command("announce", Role.COORDINATOR, ("mitteilung", "rundschreiben")),
    Command("digest", Role.COORDINATOR, ("uebersicht",)),
    Command("report", Role.COORDINATOR, ("bericht",)),
    Command("attendance", Role.COORDINATOR, ("anwesenheit",)),
    Command("sheet", Role.COORDINATOR, ("teilnahmeliste", "liste")),
    Command("minutes", Role.COORDINATOR, ("ergebnisprotokoll", "niederschrift")),
    Command("track", Role.COORDINATOR, ("stand", "wiedervorlage")),
)


def available(role: Role) -> list[Command]:
    """The commands a person with `role` may use, in menu order."""
    return [command for command in COMMANDS if command.role <= role]


def by_name(name: str) -> Command | None:
    for command in COMMANDS:
        if name == command.name or name in command.aliases:
            return command
    return None
