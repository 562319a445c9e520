"""The demo's content, in German: its people, its history and what is coming.

`bot.dev.sandbox.demo` describes what `fill_demo` makes of it. The people are
fictional; the groups are the slugs of the configured groups (`ak-eu`,
`ak-ehrenamt`, `ak-arbeitsmarkt`, `ag-soe`, `lenkungskreis`). Days are counted
from the sandbox's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from storage.followup_models import AttendanceStatus
from storage.models import RsvpAnswer


@dataclass(frozen=True)
class DemoPerson:
    key: str
    first_name: str
    last_name: str
    username: str | None
    organisation: str | None
    groups: tuple[str, ...]
    """Approved memberships (group slugs)."""
    pending: tuple[str, ...] = ()
    """Open join requests (group slugs)."""


def _extra(
    key: str,
    name: str,
    username: str | None,
    organisation: str | None,
    groups: str,
    pending: str = "",
) -> DemoPerson:
    first_name, last_name = name.split(" ", 1)
    return DemoPerson(
        key,
        first_name,
        last_name,
        username,
        organisation,
        tuple(groups.split()),
        tuple(pending.split()),
    )


# --- people -------------------------------------------------------------------------------

# persona key -> (organisation, approved groups, pending groups); "thomas" is a guest
MEMBERS: dict[str, tuple[str | None, tuple[str, ...], tuple[str, ...]]] = {
    "koordination": ("Stadt Wuppertal, KIM", (), ()),
    "ana": ("Caritasverband Wuppertal/Solingen", ("ak-eu", "ag-soe"), ()),
    "mehmet": ("Jobcenter Wuppertal", ("ak-arbeitsmarkt", "lenkungskreis"), ("ak-eu",)),
    "ioana": ("Romane Romnja e.V.", ("ag-soe",), ()),
    "lena": ("Freiwilligenagentur Wuppertal", ("ak-ehrenamt",), ()),
}

EXTRA_MEMBERS: tuple[DemoPerson, ...] = (
    _extra("m01", "Katarzyna Nowak", None, "Diakonie Wuppertal, Migrationsdienst", "ak-eu ag-soe"),
    _extra("m02", "Georgi Ivanov", "georgi_iv", "Bulgarischer Kulturverein e.V.", "ak-eu ag-soe"),
    _extra("m03", "Stefanie Krüger", "stefanie_k", "Stadt Wuppertal, Einwohnermeldeamt", "ak-eu"),
    _extra("m04", "Dimitrios Papadopoulos", "dimi_p", "AWO Wuppertal", "ak-eu ak-arbeitsmarkt"),
    _extra("m05", "Elena Radu", None, "Stadt Wuppertal, Gesundheitsamt", "ak-eu"),
    _extra("m06", "Ahmad Al-Khalil", "ahmad_ak", None, "ak-ehrenamt"),
    _extra("m07", "Monika Schulz", None, None, "ak-ehrenamt"),
    _extra("m08", "Yasemin Demir", "yasemin_d", "Nachbarschaftsheim Wuppertal e.V.", "ak-ehrenamt"),
    _extra("m09", "Jan Kowalski", None, "Diakonie Wuppertal, Freiwilligendienste", "ak-ehrenamt"),
    _extra("m10", "Rania Haddad", "rania_h", "Bergische Volkshochschule", "ak-arbeitsmarkt"),
    _extra("m11", "Frank Müller", None, "Agentur für Arbeit Solingen-Wuppertal", "ak-arbeitsmarkt"),
    _extra("m12", "Burak Aydın", "burak_a", "IQ Netzwerk, Anerkennungsberatung", "ak-arbeitsmarkt"),
    _extra("m13", "Claudia Schmitt", None, "Gesamtschule Barmen", "ag-soe"),
    _extra("m14", "Florin Stan", "florin_s", "Kommunales Integrationszentrum Wuppertal", "ag-soe"),
    _extra("m15", "Petra Lange", None, "Diakonie Wuppertal", "lenkungskreis"),
    _extra("m16", "Hasan Öztürk", "hasan_oe", "Integrationsrat Wuppertal", "lenkungskreis"),
    _extra("m17", "Birgit Hahn", None, "Stadt Wuppertal, Ausländerbehörde", "lenkungskreis"),
    _extra("m18", "Andreas Vogel", "a_vogel", "Caritasverband Wuppertal/Solingen", "lenkungskreis"),
    _extra("m19", "Sevgi Arslan", "sevgi_a", "Schulamt Wuppertal", "lenkungskreis", "ag-soe"),
    _extra("m20", "Aylin Kaya", "aylin_k", "Fachkräfteservice im KI Wuppertal", "ak-arbeitsmarkt"),
)

REGISTERED_DAYS_AGO = 150
JOINED_DAYS_AGO = {"m09": 9, "m20": 20}
"""Who joined recently (new members in the digest); everyone else REGISTERED_DAYS_AGO."""
PENDING_DAYS_AGO = 3

# persona key -> (e-mail address, everything also by e-mail?); confirmed EMAIL_DAYS_AGO (SPEC 15)
EMAIL: dict[str, tuple[str, bool]] = {
    "ana": ("ana.popescu@caritas-wuppertal.example", True),
    "mehmet": ("mehmet.yilmaz@jobcenter-wuppertal.example", False),
}
EMAIL_DAYS_AGO = 40

# --- history ------------------------------------------------------------------------------

# group -> (time, location) of its sessions
PLACES = {
    "ak-eu": ("14:00", "Rathaus Barmen, Raum 210"),
    "ak-ehrenamt": ("17:00", "Freiwilligenagentur Wuppertal, Seminarraum"),
    "ak-arbeitsmarkt": ("10:00", "Jobcenter Wuppertal, Besprechungsraum 3"),
    "ag-soe": ("10:00", "Online"),
    "lenkungskreis": ("16:00", "Rathaus Barmen, Raum 260"),
}

# (group, days ago (a holiday: the working day before), title) -> topics (author key, text), accepted
PAST_SESSIONS: dict[tuple[str, int, str], tuple[tuple[str, str], ...]] = {
    ("ak-eu", 102, "Arbeitsplanung"): (
        ("koordination", "Arbeitsplanung des AK EU für das Halbjahr"),
        ("m02", "Vorstellung des Bulgarischen Kulturvereins Wuppertal"),
    ),
    ("ak-eu", 74, "Schule und Kita"): (
        ("m01", "Wartezeiten auf Schulplätze für Seiteneinsteiger"),
        ("ana", "Kita-Plätze für Kinder aus zugewanderten EU-Familien"),
    ),
    ("ak-eu", 46, "Sprachkurse und Beratung"): (
        ("m04", "Integrationskurse: Zugang für EU-Bürgerinnen und -Bürger"),
        ("m03", "Anmeldung im Einwohnermeldeamt: Termine und Sprachmittlung"),
    ),
    ("ak-eu", 18, "Gesundheitliche Versorgung"): (
        ("m05", "Ergebnisse der Fallrekonstruktionen: Zugang zum Gesundheitssystem"),
        ("ana", "Krankenversicherung bei Minijobs: Fälle aus der Beratung"),
        ("koordination", "Angebots- und Maßnahmenpaket Gesundheit: nächste Schritte"),
    ),
    ("ak-ehrenamt", 95, "Patenschaften"): (
        ("m07", "Patenschaften für geflüchtete Familien aus der Ukraine"),
        ("lena", "Versicherungsschutz für Ehrenamtliche"),
    ),
    ("ak-ehrenamt", 60, "Neue Ehrenamtliche gewinnen"): (
        ("m08", "Ehrenamtsbörse im Stadtteil"),
        ("lena", "Ehrenamtskoordination: Wer vermittelt wen?"),
    ),
    ("ak-ehrenamt", 21, "Sprachbegleitung"): (
        ("lena", "Schulung für ehrenamtliche Sprachbegleiterinnen und Sprachbegleiter"),
        ("m06", "Erfahrungen als Lotse bei Behördengängen"),
    ),
    ("ak-arbeitsmarkt", 95, "Zugang zu Arbeit für EU-Zugewanderte"): (
        ("mehmet", "Leistungsanspruch von EU-Bürgerinnen und -Bürgern"),
        ("m11", "Minijobs und Scheinselbständigkeit"),
    ),
    ("ak-arbeitsmarkt", 67, "Anerkennung von Abschlüssen"): (
        ("m12", "Anerkennungsberatung: neue Sprechzeiten"),
        ("m04", "Pflegeberufe: Anpassungsqualifizierung"),
    ),
    ("ak-arbeitsmarkt", 39, "Sprachkurse und Beruf"): (
        ("m10", "Berufssprachkurse: freie Plätze und Wartelisten"),
        ("m11", "Sprachkurse in Teilzeit für Beschäftigte"),
    ),
    ("ak-arbeitsmarkt", 11, "Fachkräfteservice"): (
        ("mehmet", "Erste Bilanz des Fachkräfteservice im Kommunalen Integrationszentrum"),
        ("m12", "Anerkennungsverfahren: Wartezeiten bei der Bezirksregierung"),
    ),
    ("ag-soe", 53, "Jour fixe"): (
        ("m01", "Bericht aus der aufsuchenden Beratung in Oberbarmen"),
        ("ioana", "Elternarbeit mit Roma-Familien"),
    ),
    ("ag-soe", 39, "Jour fixe"): (
        ("m02", "Wohnsituation in Oberbarmen und Wichlinghausen"),
        ("m14", "Sprechstunde für Menschen ohne Krankenversicherung"),
    ),
    ("ag-soe", 25, "Jour fixe"): (
        ("ana", "Sprachmittlung für Rumänisch und Bulgarisch"),
        ("m13", "Seiteneinsteigerklassen: freie Plätze"),
    ),
    ("ag-soe", 11, "Jour fixe"): (
        ("ioana", "Schulbesuch von Kindern aus Rumänien und Bulgarien"),
        ("m14", "Gesundheit: was die Fallrekonstruktionen für Süd-Ost-Europa zeigen"),
    ),
    ("lenkungskreis", 99, "Sitzung des Lenkungskreises"): (
        ("koordination", "Bedarfsanalyse EU und Gesundheit: Auftrag an den AK EU"),
        ("m16", "Beteiligung der Migrantenorganisationen"),
    ),
    ("lenkungskreis", 57, "Sitzung des Lenkungskreises"): (
        ("m15", "Psychosoziale Unterstützung für Geflüchtete"),
        ("mehmet", "Fachkräftemangel: Aufbau des Fachkräfteservice"),
    ),
    ("lenkungskreis", 22, "Sitzung des Lenkungskreises"): (
        ("koordination", "Berichte aus den Arbeitskreisen"),
        ("m17", "Ausländerbehörde: Terminvergabe und Wartezeiten"),
        ("m19", "Fehlendes Lehrpersonal für Seiteneinsteigerklassen"),
    ),
}
SCHEDULED_BEFORE = timedelta(days=21)
"""How long before a past session the coordination planned it."""
ANSWERED_BEFORE = timedelta(days=3)
"""When the members began to answer, before a past session."""

CLOSED_RECOMMENDATION = (
    "ak-eu,ak-arbeitsmarkt,ag-soe Die Stadt richtet für EU-Zugewanderte ohne "
    "Krankenversicherung eine Clearingstelle Gesundheit ein. Die Arbeitskreise melden, "
    "welche Fälle aus ihrer Arbeit dorthin vermittelt werden sollten."
)
CLOSED_PUBLISHED, CLOSED_DEADLINE, CLOSED_ON = 56, 35, 20
"""Days ago: published, the deadline (the end of that day), closed."""
# member key -> (stance, comment or None); one answer a day after publishing
CLOSED_FEEDBACK: dict[str, tuple[str, str | None]] = {
    "ana": ("agree", "Die Clearingstelle würde vielen Familien aus unserer Beratung helfen."),
    "m01": ("agree", None),
    "m02": ("concerns", "Ohne Sprachmittlung für Bulgarisch erreicht sie die Familien nicht."),
    "m05": ("agree", "Das Gesundheitsamt kann Räume und eine Ärztin für die Sprechstunde stellen."),
    "ioana": ("agree", "Bitte die Beratung auch auf Romanes anbieten."),
    "m14": ("agree", None),
    "mehmet": ("concerns", "Die Schnittstelle zum Jobcenter muss vorher geklärt sein."),
    "m11": ("agree", None),
    "m12": ("reject", "Zuerst sollten die bestehenden Angebote bekannter werden."),
}
OUTCOME = (
    "Der Lenkungskreis hat die Rückmeldungen beraten und empfiehlt die Clearingstelle "
    "Gesundheit als Modellprojekt beim Gesundheitsamt. Sprachmittlung für Rumänisch und "
    "Bulgarisch wird eingeplant; die Schnittstelle zum Jobcenter klärt der AK "
    "Arbeitsmarktintegration bis zu seiner nächsten Sitzung."
)

# --- after a held session (SPEC 13) --------------------------------------------------------

FOLLOWED_UP = ("ak-eu", 18, "Gesundheitliche Versorgung")
"""The held session (a key of PAST_SESSIONS) with attendance taken and approved minutes."""
PRESENT, EXCUSED, ABSENT = AttendanceStatus.PRESENT, AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT
# member key -> what the coordination recorded
ATTENDANCE: dict[str, AttendanceStatus] = {
    "ana": PRESENT,
    "m01": PRESENT,  # through her deputy (DEPUTY)
    "m02": EXCUSED,
    "m03": PRESENT,
    "m04": ABSENT,
    "m05": PRESENT,
}
CHECKED_IN = ("m05", "m01")
"""Who checked in themselves (m01 through her deputy), shortly before the start."""
DEPUTY = ("m01", "m15")
"""(member, deputy): Katarzyna Nowak (Diakonie, Migrationsdienst) is represented by her
colleague Petra Lange (Diakonie Wuppertal), who accepted before the session."""
DEPUTY_SINCE, DEPUTY_UNTIL = 30, 40
"""Days: the deputyship was asked this long before the session, and lasts until the
local date this many days after now (in force now)."""
GUEST = ("Miriam Schäfer", "Gesundheitsamt Solingen")
"""A guest recorded by name and organisation."""
# agenda text of the session -> (result, decisions); in the order of its topics
MINUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Ergebnisse der Fallrekonstruktionen: Zugang zum Gesundheitssystem": (
        "Das Gesundheitsamt stellt die Ergebnisse der zwölf Fallrekonstruktionen vor. "
        "Die größten Hürden sind fehlende Versicherung, Sprache und Misstrauen gegenüber Behörden.",
        (),
    ),
    "Krankenversicherung bei Minijobs: Fälle aus der Beratung": (
        "Mehrere Beratungsstellen berichten von Familien, die wegen eines Minijobs ihre "
        "Familienversicherung verloren haben. Die Fälle sollen gesammelt werden.",
        (),
    ),
    "Angebots- und Maßnahmenpaket Gesundheit: nächste Schritte": (
        "Der AK bespricht den Entwurf des Maßnahmenpakets.",
        ("Der AK EU empfiehlt dem Lenkungskreis eine Clearingstelle Gesundheit als Modellprojekt.",),
    ),
}
TASK = (
    "Krankenversicherung bei Minijobs: Fälle aus der Beratung",
    "ana",
    "Fälle aus der Beratung anonymisiert zusammenstellen und an die Koordination schicken",
    12,
)
"""(agenda text, owner key, text, due in days from now): an open task from the minutes."""
CORRECTION = ("m05", "Es waren zwölf Fallrekonstruktionen, nicht zehn.")
"""A correction an attendee proposed while the minutes were in review."""
WRITTEN_AFTER, APPROVED_AFTER = timedelta(days=1), timedelta(days=8)
"""After the session: the coordination circulated the minutes, and approved them."""

# --- what is coming -----------------------------------------------------------------------

# (group, in how many days (a holiday: the working day after), "title [| recurrence]")
COMING_SESSIONS = (
    ("ak-eu", 7, "Wohnen und Anmeldung"),
    ("ag-soe", 3, "Jour fixe | alle 2 Wochen 6 mal"),
    ("ak-ehrenamt", 9, "Sprachcafés im Quartier"),
    ("lenkungskreis", 11, "Sitzung des Lenkungskreises"),
)
# group -> answers to its next session (only extra members answer)
YES, NO, MAYBE = RsvpAnswer.YES, RsvpAnswer.NO, RsvpAnswer.MAYBE
COMING_ANSWERS: dict[str, dict[str, RsvpAnswer]] = {
    "ak-eu": {"m01": YES, "m03": YES, "m04": MAYBE, "m02": NO},
    "ag-soe": {"m13": YES},
    "ak-ehrenamt": {"m07": YES, "m08": YES},
    "lenkungskreis": {"m15": YES, "m17": YES, "m18": MAYBE},
}

# (author key, group, text, accepted by the coordination), for the groups' next sessions
AGENDA = (
    ("ana", "ak-eu", "Bericht aus der Beratung: Anmeldung ohne festen Wohnsitz", True),
    ("ana", "ak-eu", "Wohnungsmarkt: Erfahrungen mit überbelegten Wohnungen", False),
    ("ioana", "ag-soe", "Schulanmeldung für Kinder aus Rumänien und Bulgarien", False),
    ("koordination", "lenkungskreis", "Halbjahresbericht an den Integrationsausschuss", True),
    ("mehmet", "lenkungskreis", "Sprachmittlung: Rückmeldungen der Arbeitskreise", False),
)

RECOMMENDATION = (
    "all Die Stadt richtet eine zentrale Stelle für Sprachmittlung ein. "
    "Die Arbeitskreise melden, welche Sprachen am meisten gebraucht werden."
)
RECOMMENDATION_DAYS = 10
"""The deadline: the end of the day this many days from now."""
PREPARED_BEFORE = timedelta(hours=1)
"""The coordination prepared what is coming this long before now: the bot's first tick
sends it, and the report (which counts what happened before now) shows the open
recommendation."""
# member key -> (stance, comment or None)
FEEDBACK: dict[str, tuple[str, str | None]] = {
    "ana": ("agree", "Gebraucht werden vor allem Rumänisch, Bulgarisch und Polnisch."),
    "mehmet": ("concerns", "Gut, aber wer bezahlt die Sprachmittlung für Termine im Jobcenter?"),
    "m15": ("agree", "In der Beratung der Diakonie fehlen vor allem Arabisch und Dari."),
    "m07": ("agree", None),
}

CANCELLED_SERIES = "ag-soe"
"""The series whose second session the coordination cancelled, with `CANCEL_REASON`."""
CANCEL_REASON = "Der Raum im Stadtteilzentrum ist an diesem Tag belegt. Wir sehen uns zwei Wochen später."
ANNOUNCEMENT = (
    "all Der Integrationsausschuss berät in seiner nächsten Sitzung über den Halbjahresbericht. "
    "Themen aus Ihrem Arbeitskreis nimmt die KIM-Koordination gern entgegen: mit /agenda oder im Gespräch."
)
REPORT_NOTES = {
    "ak-eu": (
        "Der AK EU hat sich vor allem mit Anmeldung und Wohnen befasst. "
        "Die Beratungsstellen berichten von mehr Anfragen als im Vorjahr."
    ),
    "ak-ehrenamt": "Zwei neue Sprachcafés sind im Aufbau; der AK sucht dafür Räume im Quartier.",
}
