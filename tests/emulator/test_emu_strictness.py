"""The emulator refuses what Telegram refuses, over real HTTP."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import pytest

from bot.dev.emulator import Emulator

if TYPE_CHECKING:
    from tests.emulator.conftest import Api, FakeClock

KEYBOARD = {"inline_keyboard": [[{"text": "Annehmen", "callback_data": "rsvp:1:yes"}]]}


async def test_token_and_method_are_checked(emu: Emulator, api: Api, http: httpx.AsyncClient) -> None:
    assert await api.fail("getMe", _token="123456:WRONG") == (401, "Unauthorized")
    assert await api.fail("sendMessagez") == (404, "Not Found")
    assert (await http.get(f"/bot{emu.token}/getMe")).json()["result"]["username"] == "kim_test_bot"
    # method names are case-insensitive, as on Telegram
    assert (await api.ok("getme"))["id"] == 123456


async def test_unknown_missing_and_wrongly_typed_parameters(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    assert await api.fail("sendMessage", chat_id=alice.id, text="x", foo=1) == (
        400,
        "Bad Request: unknown parameter 'foo'",
    )
    assert await api.fail("sendMessage", chat_id=alice.id) == (
        400,
        "Bad Request: parameter 'text' is required",
    )
    assert await api.fail("sendMessage", chat_id=alice.id, text=5) == (
        400,
        "Bad Request: parameter 'text' must be String",
    )
    assert await api.fail("sendMessage", chat_id=1.5, text="x") == (
        400,
        "Bad Request: parameter 'chat_id' must be Integer or String",
    )
    bad_button = {"inline_keyboard": [[{"text": "a", "callback_data": "x"}, {"text": "b", "callback_data": 7}]]}
    assert await api.fail("sendMessage", chat_id=alice.id, text="x", reply_markup=bad_button) == (
        400,
        "Bad Request: parameter 'reply_markup.inline_keyboard[0][1].callback_data' must be String",
    )
    not_nested = {"inline_keyboard": [{"text": "a", "callback_data": "x"}]}
    status, description = await api.fail("sendMessage", chat_id=alice.id, text="x", reply_markup=not_nested)
    assert status == 400 and "reply_markup.inline_keyboard[0]" in description
    extra = {"inline_keyboard": [[{"text": "a", "callback_data": "x", "colour": "red"}]]}
    assert await api.fail("sendMessage", chat_id=alice.id, text="x", reply_markup=extra) == (
        400,
        "Bad Request: unknown parameter 'reply_markup.inline_keyboard[0][0].colour'",
    )
    assert await api.fail("sendMessage", chat_id=alice.id, text="x", reply_parameters={"message_id": "1"}) == (
        400,
        "Bad Request: parameter 'reply_parameters.message_id' must be Integer",
    )
    status, description = await api.fail(
        "sendMessage", chat_id=alice.id, text="x", link_preview_options={"is_disabled": "yes"}
    )
    assert "link_preview_options.is_disabled" in description


async def test_form_values_are_decoded_by_declared_type(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    sent = await api.ok(
        "sendMessage",
        _form=True,
        chat_id=alice.id,
        text="123",
        disable_notification=True,
        reply_markup=KEYBOARD,
    )
    assert sent["text"] == "123"  # a String stays a string even if it looks like a number
    assert sent["reply_markup"] == KEYBOARD
    status, description = await api.fail(
        "sendMessage", _form=True, chat_id=alice.id, text="x", disable_notification="yes"
    )
    assert description == "Bad Request: parameter 'disable_notification' must be Boolean"
    status, description = await api.fail(
        "sendMessage", _form=True, chat_id=alice.id, text="x", reply_markup="{not json"
    )
    assert description == "Bad Request: can't parse JSON in parameter 'reply_markup'"


async def test_bot_command_scopes_are_a_union_discriminated_by_type(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    commands = [{"command": "start", "description": "Anmelden"}]
    assert await api.ok("setMyCommands", commands=commands, scope={"type": "chat", "chat_id": alice.id})
    assert emu.commands("chat", chat_id=alice.id) == commands
    status, description = await api.fail("setMyCommands", commands=commands, scope={"type": "chat"})
    assert description == "Bad Request: parameter 'scope.chat_id' is required"
    status, description = await api.fail("setMyCommands", commands=commands, scope={"type": "everyone"})
    assert description == "Bad Request: parameter 'scope.type' has unsupported value 'everyone'"
    status, description = await api.fail("setMyCommands", commands=commands, scope={"type": "default", "chat_id": 1})
    assert description == "Bad Request: unknown parameter 'scope.chat_id'"
    status, description = await api.fail("setMyCommands", commands=[{"command": "Start!", "description": "x"}])
    assert description == "Bad Request: BOT_COMMAND_INVALID"


async def test_html_and_lengths(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    status, description = await api.fail("sendMessage", chat_id=alice.id, text="<b>fett", parse_mode="HTML")
    assert status == 400 and description.startswith("Bad Request: can't parse entities:")
    status, description = await api.fail("sendMessage", chat_id=alice.id, text="a & b", parse_mode="HTML")
    assert "at byte offset 2" in description
    assert await api.fail("sendMessage", chat_id=alice.id, text="x" * 4097) == (
        400,
        "Bad Request: message is too long",
    )
    assert await api.fail("sendMessage", chat_id=alice.id, text="<i></i>", parse_mode="HTML") == (
        400,
        "Bad Request: message text is empty",
    )
    sent = await api.ok("sendMessage", chat_id=alice.id, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert len(sent["text"]) == 4096
    assert await api.fail("sendMessage", chat_id=alice.id, text="x", parse_mode="HTML5") == (
        400,
        "Bad Request: unsupported parse_mode",
    )


async def test_explicit_entities(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    sent = await api.ok(
        "sendMessage",
        chat_id=alice.id,
        text="fett",
        entities=[{"type": "bold", "offset": 0, "length": 4}],
    )
    assert sent["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    assert emu.messages(alice)[-1].html == "<b>fett</b>"
    status, description = await api.fail(
        "sendMessage",
        chat_id=alice.id,
        text="x",
        entities=[{"type": "glow", "offset": 0, "length": 1}],
    )
    assert "unsupported entity type" in description


@pytest.mark.parametrize(
    ("data", "ok"),
    [("x" * 64, True), ("x" * 65, False), ("ä" * 32, True), ("ä" * 33, False), ("", False)],
)
async def test_callback_data_is_1_to_64_bytes(emu: Emulator, api: Api, data: str, ok: bool) -> None:
    alice = emu.add_user("Alice")
    markup = {"inline_keyboard": [[{"text": "Knopf", "callback_data": data}]]}
    response = await api.call("sendMessage", chat_id=alice.id, text="x", reply_markup=markup)
    if ok:
        assert response.status_code == 200
    else:
        assert response.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"


async def test_inline_buttons_need_text_and_exactly_one_action(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")

    async def refused(button: dict) -> str:
        markup = {"inline_keyboard": [[button]]}
        return (await api.fail("sendMessage", chat_id=alice.id, text="x", reply_markup=markup))[1]

    assert await refused({"text": "nur Text"}) == ("Bad Request: text buttons are unallowed in the inline keyboard")
    assert "exactly one action" in await refused({"text": "a", "callback_data": "x", "url": "https://x.org"})
    assert "non-empty" in await refused({"text": " ", "callback_data": "x"})
    assert await refused({"text": "a", "url": "ftp://x"}) == "Bad Request: BUTTON_URL_INVALID"
    for markup in (
        {"keyboard": [[{"text": "Ja"}, {"text": "Nein"}]], "resize_keyboard": True},
        {"remove_keyboard": True},
        {"force_reply": True, "input_field_placeholder": "Name"},
    ):
        sent = await api.ok("sendMessage", chat_id=alice.id, text="x", reply_markup=markup)
        assert "reply_markup" not in sent  # only inline keyboards are part of a Message
    assert emu.messages(alice)[-1].reply_keyboard == {
        "force_reply": True,
        "input_field_placeholder": "Name",
    }


async def test_edits(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    sent = await api.ok(
        "sendMessage",
        chat_id=alice.id,
        text="<b>Termin</b>",
        parse_mode="HTML",
        reply_markup=KEYBOARD,
    )
    mid = sent["message_id"]
    not_modified = (
        400,
        "Bad Request: message is not modified: specified new message content and reply markup are "
        "exactly the same as a current content and reply markup of the message",
    )
    assert (
        await api.fail(
            "editMessageText",
            chat_id=alice.id,
            message_id=mid,
            text="<b>Termin</b>",
            parse_mode="HTML",
            reply_markup=KEYBOARD,
        )
        == not_modified
    )
    assert (
        await api.fail("editMessageReplyMarkup", chat_id=alice.id, message_id=mid, reply_markup=KEYBOARD)
        == not_modified
    )
    # same text without entities is a change; without reply_markup the keyboard goes, as on Telegram
    edited = await api.ok("editMessageText", chat_id=alice.id, message_id=mid, text="Termin")
    assert "entities" not in edited and "reply_markup" not in edited and "edit_date" in edited
    message = emu.messages(alice)[0]
    assert (message.text, message.edits, message.buttons) == ("Termin", 1, [])
    assert message.history[0].text == "Termin" and message.history[0].entities
    assert await api.ok("editMessageReplyMarkup", chat_id=alice.id, message_id=mid, reply_markup=KEYBOARD)
    assert emu.messages(alice)[0].buttons == [[("Annehmen", "rsvp:1:yes")]]
    assert await api.fail("editMessageText", chat_id=alice.id, message_id=999, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    emu.send_text(alice, "hallo")
    own = emu.history(alice)[-1].message_id
    assert await api.fail("editMessageText", chat_id=alice.id, message_id=own, text="x") == (
        400,
        "Bad Request: message can't be edited",
    )
    assert await api.ok("deleteMessage", chat_id=alice.id, message_id=mid) is True
    assert emu.messages(alice)[0].deleted
    assert await api.fail("deleteMessage", chat_id=alice.id, message_id=mid) == (
        400,
        "Bad Request: message to delete not found",
    )
    assert await api.fail("editMessageText", chat_id=alice.id, message_id=mid, text="y") == (
        400,
        "Bad Request: message to edit not found",
    )


async def test_unknown_chat_and_blocked_user(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    stranger = emu.add_user("Stranger", started=False)
    assert await api.fail("sendMessage", chat_id=42, text="x") == (
        400,
        "Bad Request: chat not found",
    )
    assert await api.fail("sendMessage", chat_id="@alice", text="x") == (
        400,
        "Bad Request: chat not found",
    )
    assert await api.fail("sendMessage", chat_id=stranger.id, text="x") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    sent = await api.ok("sendMessage", chat_id=str(alice.id), text="vorher")
    update_id = emu.block(alice)
    assert await api.fail("sendMessage", chat_id=alice.id, text="x") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    assert (await api.fail("editMessageText", chat_id=alice.id, message_id=sent["message_id"], text="y"))[0] == 403
    updates = await api.ok("getUpdates")
    assert updates[-1]["update_id"] == update_id
    change = updates[-1]["my_chat_member"]
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == (
        "member",
        "kicked",
    )
    emu.unblock(alice)
    updates = await api.ok("getUpdates", offset=update_id + 1)
    assert updates[0]["my_chat_member"]["new_chat_member"]["status"] == "member"
    assert await api.ok("sendMessage", chat_id=alice.id, text="wieder da")


async def test_callback_queries(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    await api.ok("sendMessage", chat_id=alice.id, text="Kommen Sie?", reply_markup=KEYBOARD)
    message = emu.messages(alice)[0]
    with pytest.raises(LookupError):
        emu.press_button(alice, message, "Absagen")
    update_id = emu.press_button(alice, message, "Annehmen")
    update = (await api.ok("getUpdates"))[0]
    assert update["update_id"] == update_id
    query = update["callback_query"]
    assert query["data"] == "rsvp:1:yes" and query["message"]["message_id"] == message.message_id
    assert query["from"]["id"] == alice.id
    invalid = (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    assert await api.fail("answerCallbackQuery", callback_query_id="nope") == invalid
    assert (await api.fail("answerCallbackQuery", callback_query_id=query["id"], text="x" * 201))[0] == 400
    assert await api.ok("answerCallbackQuery", callback_query_id=query["id"], text="Danke!") is True
    assert await api.fail("answerCallbackQuery", callback_query_id=query["id"]) == invalid
    answer = emu.callback_answer(update_id)
    assert answer.answered and answer.answer_text == "Danke!"
    forged = emu.press_data(alice, message.message_id, "admin:delete-all")
    update = (await api.ok("getUpdates", offset=update_id + 1))[0]
    assert update["update_id"] == forged and update["callback_query"]["data"] == "admin:delete-all"


async def test_unimplemented_method_answers_501(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    assert await api.fail("sendDice", chat_id=alice.id) == (
        501,
        "Not Implemented by the emulator: sendDice",
    )


async def test_rate_limits(emu: Emulator, api: Api, clock: FakeClock) -> None:
    people = [emu.add_user(f"P{i}") for i in range(31)]
    group = emu.add_group_chat("AK EU Runde", people[:3])
    assert await api.ok("sendMessage", chat_id=people[0].id, text="1")
    assert await api.ok("sendMessage", chat_id=people[0].id, text="2")  # off by default
    emu.set_rate_limits(enabled=True)
    assert await api.ok("sendMessage", chat_id=people[0].id, text="3")
    response = await api.call("sendMessage", chat_id=people[0].id, text="4")
    assert response.status_code == 429
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    clock.advance(1.0)
    assert await api.ok("sendMessage", chat_id=people[0].id, text="4")
    clock.advance(1.0)
    for person in people[:30]:
        assert await api.ok("sendMessage", chat_id=person.id, text="alle")
    assert (await api.fail("sendMessage", chat_id=people[30].id, text="zu viel"))[0] == 429
    clock.advance(1.0)
    for _ in range(20):
        assert await api.ok("sendMessage", chat_id=group.id, text="Gruppe")
        clock.advance(1.0)
    status, description = await api.fail("sendMessage", chat_id=group.id, text="Gruppe")
    assert status == 429 and description == "Too Many Requests: retry after 40"
    limits = [(t.limit, t.retry_after) for t in emu.too_many_requests]
    assert limits == [("chat", 1), ("global", 1), ("group", 40)]
    # edits are not counted unless asked for
    sent = await api.ok("sendMessage", chat_id=people[1].id, text="a")
    assert await api.ok("editMessageText", chat_id=people[1].id, message_id=sent["message_id"], text="b")


async def test_injected_faults(emu: Emulator, api: Api, http: httpx.AsyncClient) -> None:
    alice = emu.add_user("Alice")
    emu.inject_fault("sendMessage", status=502, times=2)
    assert await api.fail("sendMessage", chat_id=alice.id, text="x") == (502, "Bad Gateway")
    assert await api.fail("sendMessage", chat_id=alice.id, text="x") == (502, "Bad Gateway")
    assert await api.ok("sendMessage", chat_id=alice.id, text="x")
    assert len(emu.messages(alice)) == 1

    emu.inject_fault("sendMessage", status=429, retry_after=3)
    response = await api.call("sendMessage", chat_id=alice.id, text="x")
    assert response.json()["parameters"] == {"retry_after": 3}
    assert emu.too_many_requests[-1].limit == "injected"

    emu.inject_fault("sendMessage", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.call("sendMessage", chat_id=alice.id, text="verloren")
    assert len(emu.messages(alice)) == 1

    emu.inject_fault("sendMessage", drop=True, after_apply=True)
    with pytest.raises(httpx.RemoteProtocolError):
        await api.call("sendMessage", chat_id=alice.id, text="angekommen")
    assert emu.messages(alice)[-1].text == "angekommen"

    emu.inject_fault("getMe", delay=0.3)
    slow = await http.get(f"/bot{emu.token}/getMe")
    assert slow.status_code == 200 and slow.elapsed.total_seconds() >= 0.3

    emu.inject_fault("*", status=500)
    assert await api.fail("getMe") == (500, "Internal Server Error")
    faults = [(c.method, c.status, c.fault) for c in emu.calls if c.fault]
    assert faults == [
        ("sendMessage", 502, "status"),
        ("sendMessage", 502, "status"),
        ("sendMessage", 429, "status"),
        ("sendMessage", 0, "drop"),
        ("sendMessage", 200, "drop-after-apply"),
        ("getMe", 200, "delay"),
        ("getMe", 500, "status"),
    ]


async def test_calls_are_recorded(emu: Emulator, api: Api) -> None:
    alice = emu.add_user("Alice")
    await api.ok("sendMessage", _form=True, chat_id=alice.id, text="<i>hi</i>", parse_mode="HTML")
    await api.fail("sendMessage", chat_id=alice.id)
    first, second = emu.calls_of("sendMessage")
    assert first.params == {"chat_id": alice.id, "text": "<i>hi</i>", "parse_mode": "HTML"}
    assert (first.status, first.chat_id, first.result["text"]) == (200, alice.id, "hi")
    assert (second.status, second.description) == (400, "Bad Request: parameter 'text' is required")


async def test_json_and_query_string_bodies(emu: Emulator, http: httpx.AsyncClient) -> None:
    alice = emu.add_user("Alice")
    response = await http.get(f"/bot{emu.token}/sendMessage", params={"chat_id": alice.id, "text": "per GET"})
    assert response.json()["result"]["text"] == "per GET"
    response = await http.post(
        f"/bot{emu.token}/sendMessage", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    response = await http.post(
        f"/bot{emu.token}/sendMessage",
        content=json.dumps({"chat_id": alice.id, "text": "ä"}).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.json()["result"]["text"] == "ä"


async def test_documents_multipart_and_file_ids(emu: Emulator, http: httpx.AsyncClient, api: Api) -> None:
    alice = emu.add_user("Alice")
    response = await http.post(
        f"/bot{emu.token}/sendDocument",
        data={"chat_id": str(alice.id), "caption": "<b>Bericht</b>", "parse_mode": "HTML"},
        files={"document": ("bericht.md", b"# Bericht\n", "text/markdown")},
    )
    sent = response.json()["result"]
    document = sent["document"]
    assert document["file_name"] == "bericht.md" and document["file_size"] == 10
    assert sent["caption"] == "Bericht" and sent["caption_entities"][0]["type"] == "bold"
    again = await api.ok("sendDocument", chat_id=alice.id, document=document["file_id"])
    assert again["document"]["file_id"] == document["file_id"]
    assert await api.fail("sendDocument", chat_id=alice.id, document="no-such-id") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    # attach:// references and unknown file parts
    response = await http.post(
        f"/bot{emu.token}/sendDocument",
        data={"chat_id": str(alice.id), "document": "attach://datei"},
        files={"datei": ("a.txt", b"A", "text/plain")},
    )
    assert response.json()["result"]["document"]["file_name"] == "a.txt"
    response = await http.post(
        f"/bot{emu.token}/sendDocument",
        data={"chat_id": str(alice.id), "document": document["file_id"]},
        files={"extra": ("a.txt", b"A", "text/plain")},
    )
    assert response.json()["description"] == "Bad Request: unknown parameter 'extra'"
    status, description = await api.fail("sendDocument", chat_id=alice.id, document="x", caption="c" * 1025)
    assert description == "Bad Request: message caption is too long"
    file = await api.ok("getFile", file_id=document["file_id"])
    download = await http.get(f"/file/bot{emu.token}/{file['file_path']}")
    assert download.content == b"# Bericht\n"
    assert (await http.get(f"/file/botWRONG:TOKEN/{file['file_path']}")).status_code == 401
    assert await api.fail("getFile", file_id="nope") == (400, "Bad Request: invalid file_id")
    messages = emu.messages(alice)
    assert messages[0].document is not None and messages[0].document.data == b"# Bericht\n"
    assert messages[0].caption == "Bericht"
