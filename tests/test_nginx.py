"""The README's nginx configuration, in front of three `kimbot run` (SPEC 12).

The configuration is taken from README.md as it stands (between the
`nginx-config` markers), with plain HTTP on a free port in place of the
certificate and the test's ports in place of 8441-8443. Through it, people
register while their steps land on different processes, and when one
process is killed, nginx passes the updates to the others: every /help is
answered. Skipped where nginx is not installed (`./dev` installs it when it
may; `.ci/run` requires it).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from bot.dev.emulator import Emulator
from tests.bot_process import WAIT
from tests.fleet import Fleet, register
from tests.harness import free_port
from tests.proxies import Nginx

pytestmark = pytest.mark.postgres

README = Path(__file__).parent.parent / "README.md"


def readme_config() -> str:
    text = README.read_text()
    match = re.search(r"<!-- nginx-config -->\s*```nginx\n(.*?)```\s*<!-- /nginx-config -->", text, re.S)
    assert match, "README.md shows the nginx configuration between its markers"
    return match.group(1)


@pytest.fixture
def nginx_available() -> None:
    if shutil.which("nginx") is None:
        if os.environ.get("KIMBOT_REQUIRE_NGINX") == "1":
            pytest.fail("KIMBOT_REQUIRE_NGINX=1 but nginx is not installed")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")


async def test_three_processes_behind_the_readme_nginx(
    nginx_available: None, emulator: Emulator, empty_postgres_url: str, tmp_path: Path
) -> None:
    coordinator = emulator.add_user("Sabine", last_name="Weber", language_code="de")
    fleet = Fleet(
        emulator,
        tmp_path,
        empty_postgres_url,
        coordinator,
        front=lambda ports: Nginx(readme_config(), ports, tmp_path / "nginx", free_port()),
    )
    try:
        await fleet.start()
        newcomers = [emulator.add_user(f"Neu{n}", language_code="de") for n in range(3)]
        await asyncio.gather(*(register(emulator, user) for user in newcomers))
        for user in newcomers:
            assert sum("Sie sind registriert" in m.text for m in emulator.messages(user)) == 1

        # One process dies: nginx passes its share of the updates to the others.
        leader = fleet.leader_pid()
        victim = next(p for p in fleet.processes if p.pid != leader)
        victim.send_signal(signal.SIGKILL)
        await asyncio.wait_for(victim.wait(), WAIT)
        pia = emulator.add_user("Pia", language_code="de")
        for number in range(6):
            emulator.send_text(pia, "/help")
            await emulator.wait_until(lambda n=number: len(emulator.messages(pia)) > n, WAIT)
        await emulator.wait_idle(quiet=0.5, timeout=WAIT)
        assert len(emulator.messages(pia)) == 6, "every /help answered once"
    finally:
        await fleet.stop()
