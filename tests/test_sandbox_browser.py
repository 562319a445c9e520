"""`kimbot sandbox` in a real browser (Debian's chromium, driven by Playwright).

The sandbox runs as a process, as a newcomer starts it. One tab plays Thomas,
a guest: he registers and asks to join AK EU. A second tab plays the
coordinator: she approves him and schedules a session for the day after
tomorrow. Thomas's tab shows the invitation without a reload. Then the clock
on the page jumps a day, and the one-day reminder arrives in his chat.

Screenshots of the main views are written to `test-output/screenshots/` (or
`$KIMBOT_SCREENSHOTS`) for a person to look at.

Chromium comes from Debian (`apt-get install chromium`; `.ci/run` installs
it), not from Playwright's download. Without it, or without the playwright
package, the test is skipped, unless `KIMBOT_REQUIRE_BROWSER=1` (set by
`.ci/run`) makes that a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.render.texts import Texts
from tests.sandbox_process import running_sandbox

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("KIMBOT_SCREENSHOTS", ROOT / "test-output" / "screenshots"))
CHROMIUM = os.environ.get("KIMBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
WAIT_MS = 30_000  # guards against a hang only; not a performance limit
TITLE = "Austausch Wohnungsmarkt"


def _browser_missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def text(key: str) -> str:
    return Texts().plain("de", key)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[str]:
    """`kimbot sandbox --fresh` in `tmp_path`; yields the page's address."""
    async with running_sandbox(tmp_path, "--fresh") as base:
        yield base


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("KIMBOT_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            await launched.close()


class Tab:
    """One browser tab on the sandbox page, acting as one persona."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.name = name

    async def open(self, base: str, persona: str) -> None:
        await self.page.goto(f"{base}/#{persona}")
        await self.page.locator("#clock").wait_for(state="visible", timeout=WAIT_MS)

    async def switch_to(self, label: str) -> None:
        await self.page.locator(".persona", has_text=label).click()

    async def send(self, message: str) -> None:
        await self.page.locator("#input").fill(message)
        await self.page.locator("#input").press("Enter")
        await self.bot_says(None)  # the page has taken it; the bot's answer follows

    def bot_messages(self) -> Any:
        return self.page.locator(".message.from-bot")

    async def bot_says(self, pattern: str | None, count: int = 1) -> Any:
        """Wait until the chat shows `count` bot messages matching `pattern` (a regex)."""
        if pattern is None:
            return None
        found = self.bot_messages().filter(has_text=re.compile(pattern))
        await found.nth(count - 1).wait_for(timeout=WAIT_MS)
        return found

    async def press(self, label: str) -> None:
        """Press the newest inline button with this label."""
        await self.page.locator(".inline-button", has_text=label).last.click()

    async def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def sandbox_now(base: str) -> datetime:
    async with httpx.AsyncClient(base_url=base) as client:
        clock = (await client.get("/api/clock")).json()
    return datetime.fromtimestamp(clock["now"] / 1000, ZoneInfo(clock["timezone"]))


async def test_register_join_approve_schedule_and_see_the_reminder_after_a_clock_jump(
    sandbox: str, browser: Any
) -> None:
    context = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="de-DE")
    member = Tab(await context.new_page(), "thomas")
    coordinator = Tab(await context.new_page(), "koordination")
    await member.open(sandbox, "thomas")
    await member.shot("01-leerer-chat")

    # Thomas registers: privacy notice, name, organisation, then the join step.
    await member.send("/start")
    await member.bot_says("Datenschutz")
    await member.press(text("registration.ack_button"))
    await member.bot_says("Wie sollen wir Sie nennen|Name")
    await member.send("Thomas Becker")
    await member.bot_says("Organisation")
    await member.press(text("registration.skip_organisation_button"))
    await member.bot_says("In welcher Gruppe")
    await member.shot("02-registrierung")
    await member.press("AK EU")
    await member.bot_says("Anfrage|angefragt|Koordination")

    # The command menu of the bot is on the page.
    await member.page.locator("#commands-button").click()
    await member.page.locator(".command-item", has_text="/join").wait_for(timeout=WAIT_MS)
    await member.shot("03-befehle")
    await member.page.keyboard.press("Escape")

    # The coordinator approves him in her own tab.
    await coordinator.open(sandbox, "koordination")
    await coordinator.bot_says("Thomas Becker")
    await coordinator.press(text("decide.approve_button"))
    await coordinator.bot_says("angenommen|aufgenommen|Mitglied")
    await member.bot_says("Mitglied in|Willkommen in")

    # She schedules a session in a day and a half; his tab shows the invitation live.
    # The invitation covers the 7-day lead time; the 1-day reminder is due in 12 hours.
    before = await sandbox_now(sandbox)
    start = (before + timedelta(hours=36)).replace(minute=0, second=0, microsecond=0)
    await coordinator.send(f"/meeting ak-eu {start:%d.%m.%Y} {start:%H:%M} {TITLE} | Rathaus Barmen")
    await coordinator.bot_says(TITLE)
    await coordinator.shot("04-koordination")
    await member.bot_says(f"Einladung[\\s\\S]*{TITLE}")
    await member.press(text("meetings.yes_button"))
    await member.shot("05-einladung")
    reminders = member.bot_messages().filter(has_text=re.compile(f"Erinnerung[\\s\\S]*{TITLE}"))
    assert await reminders.count() == 0

    # One day later (by the page's clock) the one-day reminder is there.
    await member.page.locator(".clock-button[data-jump='day']").click()
    await reminders.first.wait_for(timeout=WAIT_MS)  # arrives while the clock runs
    await member.page.wait_for_function(
        "() => ![...document.querySelectorAll('.clock-button')].some(b => b.disabled)",
        timeout=WAIT_MS,
    )
    assert await reminders.count() == 1
    after = await sandbox_now(sandbox)
    assert after - before >= timedelta(days=1)
    shown = f"{after:%d.%m.%Y}"
    await member.page.wait_for_function(
        "shown => document.querySelector('#clock-now').textContent.includes(shown)",
        arg=shown,
        timeout=WAIT_MS,
    )
    await member.shot("06-erinnerung-nach-zeitsprung")

    # The coordinator's tab has the new time as well, without a reload.
    await coordinator.page.wait_for_function(
        "shown => document.querySelector('#clock-now').textContent.includes(shown)",
        arg=shown,
        timeout=WAIT_MS,
    )
    await context.close()


async def test_the_postfach_on_a_phone_shows_the_demo_invitation(tmp_path: Path, browser: Any) -> None:
    """`--demo`: Ana gets her invitations by e-mail too. On a phone-sized page the
    Postfach lists them; one opens with its text, its links to the bot's pages, the
    calendar file to download and the HTML view in a frame; then back to the chat."""
    async with running_sandbox(tmp_path, "--demo") as base:
        context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
        tab = Tab(await context.new_page(), "ana")
        await tab.open(base, "ana")
        await tab.page.locator("#postfach-button").click()
        assert await tab.page.locator("#chat").is_hidden()
        mail = tab.page.locator(".mail", has_text="Wohnen und Anmeldung").first
        await mail.wait_for(timeout=WAIT_MS)
        await mail.locator("summary").click()
        await mail.locator(".mail-text").wait_for(state="visible", timeout=WAIT_MS)
        links = [await a.get_attribute("href") for a in await mail.locator(".mail-text a").all()]
        assert links and all(re.match(r"http://127\.0\.0\.1:\d+/m/", link or "") for link in links)
        assert await mail.locator(".mail-file", has_text=".ics").count() == 1
        wide = await tab.page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 390, "nothing wider than the phone"
        await tab.shot("07-postfach-telefon")
        await mail.locator(".mail-switch-button", has_text="HTML").click()
        frame = tab.page.frame_locator(".mail[open] .mail-html")
        await frame.locator("body", has_text="Wohnen und Anmeldung").wait_for(timeout=WAIT_MS)
        await tab.page.locator("#postfach-button").click()
        await tab.page.locator("#chat").wait_for(state="visible", timeout=WAIT_MS)
        await context.close()
