"""The sandbox's Postfach (SPEC 15): `kimbot sandbox --demo` sends Ana's
invitations by e-mail to its own SMTP server, and the page's API shows them
with the calendar file to download, the HTML part for a sandboxed frame, and
links that open the bot's pages. The Postfach is there again after a restart;
`--fresh` empties it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from icalendar import Calendar

from bot.dev.sandbox.demo_data import EMAIL
from bot.render.texts import Texts
from tests.harness import free_port
from tests.sandbox_process import running_sandbox

ANA, _ = EMAIL["ana"]
MEHMET, _ = EMAIL["mehmet"]
TITLE = "Wohnen und Anmeldung"  # AK EU's coming session in the demo
INVITATION = Texts().catalogs["de"]["mail.subject_invitation"].split("{title}")[0] + TITLE  # "Einladung: Wohnen ..."
Mail = dict[str, Any]


async def mails_until(client: httpx.AsyncClient, check: Callable[[list[Mail]], bool]) -> list[Mail]:
    """The Postfach's mails (newest first), once `check` holds for them (long polls)."""
    mails: list[Mail] = []
    last = 0
    for _ in range(60):  # guards against a hang only; each poll returns when a mail comes
        answer = (await client.get("/api/mails", params={"since": last, "timeout": 5})).json()
        assert answer["available"]
        mails = answer["mails"] + mails
        last = answer["last"]
        if check(mails):
            return mails
    raise AssertionError(f"the Postfach has {[m['subject'] for m in mails]}")


def invitation(mails: list[Mail]) -> Mail | None:
    """The invitation to the demo's session, by its subject: a reminder of the
    session carries its title and calendar too (the demo's 7-day reminder can
    fall due between two starts of the sandbox)."""
    return next((m for m in mails if m["subject"].startswith(INVITATION) and m["attachments"]), None)


async def test_the_postfach_shows_the_demo_invitation_with_its_calendar_and_links(tmp_path: Path) -> None:
    pages = free_port()
    async with (
        running_sandbox(tmp_path, "--demo", "--pages-port", str(pages)) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        mails = await mails_until(client, lambda found: invitation(found) is not None)
        numbers = [m["number"] for m in mails]
        assert numbers == sorted(numbers, reverse=True), "newest first"
        assert all(ANA in m["to"] for m in mails), "Ana wants everything by e-mail too"
        assert not any(MEHMET in m["to"] for m in mails), "Mehmet only when Telegram cannot reach him"
        mail = invitation(mails)
        assert mail is not None and "KIM-Bot" in mail["from"] and mail["received"] > 0

        (calendar,) = [a for a in mail["attachments"] if a["mime_type"] == "text/calendar"]
        download = await client.get(calendar["url"])
        assert download.status_code == 200 and download.headers["Content-Type"] == "text/calendar"
        assert "attachment" in download.headers["Content-Disposition"]
        (event,) = Calendar.from_ical(download.content).walk("VEVENT")
        assert TITLE in str(event["SUMMARY"])
        assert len(download.content) == calendar["size"]

        frame = await client.get(mail["html"])
        assert frame.status_code == 200 and TITLE in frame.text
        assert frame.headers["Content-Security-Policy"].startswith("sandbox ")
        assert '<base target="_blank">' in frame.text

        links = re.findall(r"https?://\S+", mail["text"])
        assert links and all(link.startswith(f"http://127.0.0.1:{pages}/m/") for link in links)
        async with httpx.AsyncClient(timeout=30) as browser:
            page = await browser.get(links[0])
        assert page.status_code == 200, "the link opens the bot's page"

        eml = await client.get(mail["eml"])
        assert eml.status_code == 200 and f"To: {ANA}".encode() in eml.content
        assert (await client.get("/api/mails/999999/html")).status_code == 404

    async with running_sandbox(tmp_path) as base, httpx.AsyncClient(base_url=base) as client:
        kept = (await client.get("/api/mails")).json()["mails"]
        assert {m["number"] for m in kept} >= set(numbers)
        assert invitation(kept) == mail, "the Postfach is there again after a restart"

    async with running_sandbox(tmp_path, "--fresh") as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/api/mails")).json() == {"available": True, "last": 0, "mails": []}
