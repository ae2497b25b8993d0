"""Polling confirms an update only once it is handled, and orders each chat's updates.

The real PTB Application long-polls the fake Bot API; handlers here stand in for the bot's
(they block, or record the order they ran in).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable

import pytest
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.logs import configure_logging
from bot.polling import ReliablePoller
from bot.sandbox import FakeBotApi
from tests.test_logs import bare_root

ALLOWED = [Update.MESSAGE, Update.CALLBACK_QUERY]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


def application(fake: FakeBotApi) -> Application:  # type: ignore[type-arg]
    return ApplicationBuilder().token(fake.token).base_url(fake.base_url).updater(None).build()


def poller(app: Application) -> ReliablePoller:  # type: ignore[type-arg]
    errors: list[TelegramError] = []
    return ReliablePoller(app, allowed_updates=ALLOWED, on_error=errors.append, long_poll_seconds=1)


async def test_an_update_is_confirmed_only_after_its_handler_finished(fake: FakeBotApi) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    seen: list[int] = []

    async def slow(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)
        entered.set()
        await release.wait()

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, slow))
    polling = poller(app)
    async with app:
        await polling.start()
        await fake.client(501, "Anna").send_text("9, and the courier was rude")
        await asyncio.wait_for(entered.wait(), timeout=5)
        await asyncio.sleep(0.3)  # time for a careless poller to ask past it
        assert len(fake.pending_updates()) == 1  # still Telegram's: not confirmed yet
        release.set()
        await fake.wait_for_call(
            lambda call: call.method == "getUpdates" and call.params.get("offset") == seen[0] + 1
        )
        await polling.stop()
    assert fake.pending_updates() == []


async def test_a_process_that_dies_mid_update_gets_it_again(fake: FakeBotApi) -> None:
    entered = asyncio.Event()
    first: list[int] = []

    async def dies(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        first.append(update.update_id)
        entered.set()
        await asyncio.Event().wait()  # never finishes: the process is killed here

    crashed = application(fake)
    crashed.add_handler(MessageHandler(filters.TEXT, dies))
    polling = poller(crashed)
    async with crashed:
        await polling.start()
        await fake.client(502, "Boris").send_text("Nobody answered")
        await asyncio.wait_for(entered.wait(), timeout=5)
        assert polling._task is not None
        polling._task.cancel()  # kill -9: no stop(), no confirmation

    again: list[int] = []

    async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        again.append(update.update_id)

    restarted = application(fake)
    restarted.add_handler(MessageHandler(filters.TEXT, record))
    polling = poller(restarted)
    async with restarted:
        await polling.start()
        for _ in range(100):
            if again:
                break
            await asyncio.sleep(0.05)
        await polling.stop()
    assert again == first  # the same update, handled after the restart


async def test_each_persons_updates_run_in_order_and_people_side_by_side(
    fake: FakeBotApi,
) -> None:
    order: list[tuple[int, str]] = []
    running = 0
    most_at_once = 0

    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        assert update.effective_chat is not None and update.effective_message is not None
        slow = update.effective_message.text == "in the group first"  # would be overtaken
        await asyncio.sleep(0.3 if slow else 0.05)
        order.append((update.effective_chat.id, update.effective_message.text or ""))
        running -= 1

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, handler))
    polling = poller(app)
    clients = [fake.client(600 + n, f"Client {n}") for n in range(5)]
    group = -100777
    fake.add_group(group, "Managers")
    manager = fake.client(700, "Olga")
    await manager.send_text("in the group first", chat_id=group)  # e.g. a press under an alert
    await manager.send_text("then in private")  # ... then the reply it asked for
    for client in clients:  # queued before polling starts: one batch
        for step in range(3):
            await client.send_text(f"{client.user_id}-{step}")
    async with app:
        await polling.start()
        for _ in range(200):
            if len(order) == 17:
                break
            await asyncio.sleep(0.05)
        await polling.stop()
    for client in clients:
        texts = [text for chat, text in order if chat == client.user_id]
        assert texts == [f"{client.user_id}-{step}" for step in range(3)]
    assert [text for _chat, text in order if "then" in text or "first" in text] == [
        "in the group first",
        "then in private",
    ]  # one person's updates in order, even across chats
    assert most_at_once > 1  # people were handled side by side


def texts_handled(app: Application) -> list[str]:  # type: ignore[type-arg]
    """The texts of the messages ``app`` handles, in the order it handles them."""
    handled: list[str] = []

    async def record(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        handled.append(update.effective_message.text or "")

    app.add_handler(MessageHandler(filters.TEXT, record))
    return handled


def unreadable_message(fake: FakeBotApi, user_id: int) -> int:
    """Queue a message PTB cannot build: a poll whose option has no ``persistent_id``, as a Bot
    API server older than 9.6 sends it. Its sender's name, username and text are personal."""
    sender = {"id": user_id, "is_bot": False, "first_name": "Karenina", "username": "anna_k"}
    return fake.queue_update(
        "message",
        {
            "message_id": 77,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Karenina"},
            "from": sender,
            "poll": {
                "id": "5",
                "question": "my secret question",
                "options": [{"text": "secret option", "voter_count": 0}],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
            },
        },
    )


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_an_update_ptb_cannot_read_is_dropped_by_id_and_polling_goes_on(
    fake: FakeBotApi, log_format: str
) -> None:
    app = application(fake)
    handled = texts_handled(app)
    dropped: list[str] = []
    polling = ReliablePoller(
        app, allowed_updates=ALLOWED, on_error=lambda _e: None, on_dropped=dropped.append
    )
    polling.long_poll_seconds = 1
    anna = fake.client(801, "Anna")
    await anna.send_text("before")
    bad = unreadable_message(fake, 801)
    await anna.send_text("after")
    stream = io.StringIO()
    with bare_root():
        configure_logging("DEBUG", log_format, stream=stream)  # type: ignore[arg-type]
        async with app:
            await polling.start()
            await fake.wait_for_call(
                lambda call: call.method == "getUpdates" and call.params.get("offset") == bad + 2
            )
            assert handled == ["before", "after"]  # the rest of the batch was handled
            await anna.send_text("later")  # and polling goes on
            await fake.wait_for_call(
                lambda call: call.method == "getUpdates" and call.params.get("offset") == bad + 3
            )
            assert polling.running
            await polling.stop()
    assert handled == ["before", "after", "later"]
    assert dropped == ["unreadable"]
    assert fake.pending_updates() == []  # the unreadable one was confirmed too
    logged = stream.getvalue()
    assert f"dropped update {bad}" in logged
    for personal in ("Karenina", "anna_k", "secret", "before", "after"):
        assert personal not in logged


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_ptbs_own_get_updates_logs_a_batch_it_cannot_parse_by_ids(
    fake: FakeBotApi, log_format: str
) -> None:
    """PTB's ``get_updates`` logs the whole batch at CRITICAL before it raises; the poller does
    not call it, but nothing that does may write the batch's content to the log."""
    app = application(fake)
    bad = unreadable_message(fake, 802)
    stream = io.StringIO()
    with bare_root():
        configure_logging("INFO", log_format, stream=stream)  # type: ignore[arg-type]
        async with app:
            with pytest.raises(TypeError):
                await app.bot.get_updates(timeout=0)
    logged = stream.getvalue()
    assert "CRITICAL" in logged and f"update {bad}" in logged
    for personal in ("Karenina", "anna_k", "secret"):
        assert personal not in logged


async def test_polling_goes_on_after_an_error_that_is_not_telegrams(
    fake: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault of ours or PTB's in one ``getUpdates`` (here one injected into the call) is
    retried with backoff; before, the polling task ended and nothing said so."""
    app = application(fake)
    handled = texts_handled(app)
    real_post = type(app.bot)._post
    faults = [RuntimeError("a bug")]

    async def faulty_post(bot: object, endpoint: str, *args: object, **kwargs: object) -> object:
        if endpoint == "getUpdates" and faults:
            raise faults.pop()
        return await real_post(bot, endpoint, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(type(app.bot), "_post", faulty_post)
    polling = poller(app)
    polling.max_backoff = 0.1
    await fake.client(803, "Anna").send_text("still heard")
    async with app:
        await polling.start()
        await fake.wait_for_call(lambda call: call.method == "getUpdates" and handled != [])
        assert polling.running
        await polling.stop()
    assert handled == ["still heard"]
    assert faults == []


async def test_running_is_false_once_telegram_refuses_the_token(fake: FakeBotApi) -> None:
    app = application(fake)
    polling = poller(app)
    async with app:
        await polling.start()
        assert polling.running
        fake.fail_next("getUpdates", status=401, description="Unauthorized")
        await fake.wait_for_call(lambda call: call.method == "getUpdates" and call.status == 401)
        for _ in range(100):
            if not polling.running:
                break
            await asyncio.sleep(0.01)
        assert not polling.running  # what /readyz reports (bot.observability.readiness)
        await polling.stop()


async def test_stop_confirms_the_last_batch_even_if_an_unreadable_update_follows_it(
    fake: FakeBotApi,
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(_update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        entered.set()
        await release.wait()

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, slow))
    polling = poller(app)
    async with app:
        await polling.start()
        await fake.client(804, "Anna").send_text("handled last")
        await asyncio.wait_for(entered.wait(), timeout=5)
        bad = unreadable_message(fake, 804)  # arrives while the batch is in hand
        stopping = asyncio.create_task(polling.stop())
        await asyncio.sleep(0)
        release.set()
        await stopping  # the confirmation reads the next update raw: nothing to fail on
    assert [update["update_id"] for update in fake.pending_updates()] == [bad]


async def test_an_update_id_too_large_to_be_valid_is_confirmed_not_asked_for_again(
    fake: FakeBotApi,
) -> None:
    """Before, no id in the batch moved the offset: the batch came back at once, for ever."""
    app = application(fake)
    handled = texts_handled(app)
    polling = poller(app)
    fake.world._updates.append(  # as a broken Bot API server might send it
        {"update_id": 2**64, "message": {"message_id": 1, "date": 1, "chat": {"id": 1}}}
    )
    async with app:
        await polling.start()
        await fake.wait_for_call(
            lambda call: call.method == "getUpdates" and call.params.get("offset") == 2**64 + 1
        )
        await polling.stop()
    assert fake.pending_updates() == []
    assert len(fake.calls_of("getUpdates")) <= 3
    assert handled == []


def offsets_sent(fake: FakeBotApi) -> list[int]:
    """The offsets of every ``getUpdates`` the fake received, in order."""
    return [
        int(call.params["offset"])
        for call in fake.calls_of("getUpdates")
        if call.params.get("offset") is not None
    ]


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_a_slow_update_does_not_hold_up_later_updates_of_others(fake: FakeBotApi) -> None:
    """Pipelined: while one person's update is in hand, others' later ones are taken and
    handled (before, the next getUpdates waited for the whole batch: a toast waited for the
    slowest answer before it)."""
    entered, release = asyncio.Event(), asyncio.Event()
    handled: list[str] = []

    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        if update.effective_message.text == "slow":
            entered.set()
            await release.wait()
        handled.append(update.effective_message.text or "")

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, handler))
    polling = poller(app)
    async with app:
        await polling.start()
        slow = await fake.client(901, "Anna").send_text("slow")
        await asyncio.wait_for(entered.wait(), timeout=5)
        for n in range(3):  # each in a later getUpdates answer than the slow one
            await fake.client(910 + n, f"Client {n}").send_text(f"later {n}")
            await wait_until(lambda n=n: f"later {n}" in handled)
        assert handled == ["later 0", "later 1", "later 2"]  # the slow one still in hand
        # the offset never passed the unfinished update, though everything after it is done
        assert max(offsets_sent(fake)) == slow.message_id and len(fake.pending_updates()) == 4
        release.set()
        await wait_until(lambda: len(handled) == 4)
        await polling.stop()
    assert fake.pending_updates() == []


async def test_the_offset_never_passes_an_update_still_in_hand(fake: FakeBotApi) -> None:
    gates = {text: asyncio.Event() for text in ("a", "b", "c")}
    started: list[int] = []
    done: list[int] = []

    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        started.append(update.update_id)
        await gates[update.effective_message.text or ""].wait()
        done.append(update.update_id)

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, handler))
    polling = poller(app)
    for n, text in enumerate(gates):
        await fake.client(920 + n, f"Client {n}").send_text(text)
    ids = [update["update_id"] for update in fake.pending_updates()]
    async with app:
        await polling.start()
        await wait_until(lambda: len(started) == 3)
        gates["b"].set()  # the middle one finishes first: nothing may be confirmed yet
        await wait_until(lambda: done == [ids[1]])
        await asyncio.sleep(0.1)  # polls go on meanwhile
        assert max(offsets_sent(fake)) == ids[0]
        gates["a"].set()  # now the first two are done: the watermark is the third
        await fake.wait_for_call(
            lambda call: call.method == "getUpdates" and call.params.get("offset") == ids[2]
        )
        await asyncio.sleep(0.1)
        assert max(offsets_sent(fake)) == ids[2]
        assert [update["update_id"] for update in fake.pending_updates()] == [ids[2]]
        gates["c"].set()
        await fake.wait_for_call(
            lambda call: call.method == "getUpdates" and call.params.get("offset") == ids[2] + 1
        )
        await polling.stop()
    assert sorted(done) == ids
    assert fake.pending_updates() == []


async def test_an_update_telegram_sends_again_is_not_handled_twice(fake: FakeBotApi) -> None:
    """Below the watermark Telegram sends the updates again with every answer: those in hand
    and those handled after the one holding the watermark are dropped by id."""
    release = asyncio.Event()
    runs: list[int] = []

    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        runs.append(update.update_id)
        if update.effective_message.text == "slow":
            await release.wait()

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, handler))
    polling = poller(app)
    async with app:
        await polling.start()
        await fake.client(931, "Anna").send_text("slow")
        await wait_until(lambda: len(runs) == 1)
        await fake.client(932, "Boris").send_text("quick")
        await wait_until(lambda: len(runs) == 2)
        polls = len(fake.calls_of("getUpdates"))
        await wait_until(lambda: len(fake.calls_of("getUpdates")) >= polls + 3)  # sent again
        release.set()
        await fake.client(933, "Vera").send_text("after")
        await wait_until(lambda: len(runs) == 3)
        await asyncio.sleep(0.1)
        await polling.stop()
    assert len(runs) == len(set(runs)) == 3
    assert fake.pending_updates() == []


async def test_one_persons_updates_stay_in_order_across_answers(fake: FakeBotApi) -> None:
    """The second update of a person whose first is still in hand waits for it, though it
    came in a later getUpdates answer; another person's does not wait."""
    release = asyncio.Event()
    events: list[str] = []

    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        text = update.effective_message.text or ""
        events.append(f"start {text}")
        if text == "score":
            await release.wait()
        events.append(f"end {text}")

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, handler))
    polling = poller(app)
    anna = fake.client(941, "Anna")
    async with app:
        await polling.start()
        await anna.send_text("score")
        await wait_until(lambda: events == ["start score"])
        await anna.send_text("comment")
        await fake.client(942, "Boris").send_text("other")
        await wait_until(lambda: "end other" in events)
        await asyncio.sleep(0.1)
        assert "start comment" not in events  # Anna's comment waits for her score
        release.set()
        await wait_until(lambda: "end comment" in events)
        await polling.stop()
    anna_events = [event for event in events if "other" not in event]
    assert anna_events == ["start score", "end score", "start comment", "end comment"]
    assert fake.pending_updates() == []


async def test_stop_lets_the_updates_in_hand_finish_and_confirms_them(fake: FakeBotApi) -> None:
    release = asyncio.Event()
    started: list[int] = []
    handled: list[int] = []

    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        started.append(update.update_id)
        await release.wait()
        handled.append(update.update_id)

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, handler))
    polling = poller(app)
    async with app:
        await polling.start()
        for n in range(3):
            await fake.client(950 + n, f"Client {n}").send_text(f"{n}")
        await wait_until(lambda: len(started) == 3)
        stopping = asyncio.create_task(polling.stop())
        await asyncio.sleep(0.05)
        assert not stopping.done()  # waits for the handlers
        release.set()
        await stopping
    assert len(handled) == 3
    assert fake.pending_updates() == []


async def test_a_stuck_update_slows_the_polls_down_but_a_new_press_is_still_taken(
    fake: FakeBotApi,
) -> None:
    """While an update is stuck in hand (a database outage holds its handler for minutes),
    Telegram answers every getUpdates at once with it again: asked every 20 ms, that was 50
    calls a second. Each answer that brings nothing new doubles the wait, up to half a second;
    an update that comes meanwhile is still taken within that."""
    release = asyncio.Event()
    handled: list[str] = []

    async def handler(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        if update.effective_message.text == "stuck":
            await release.wait()
        handled.append(update.effective_message.text or "")

    app = application(fake)
    app.add_handler(MessageHandler(filters.TEXT, handler))
    polling = poller(app)
    async with app:
        await polling.start()
        await fake.client(941, "Anna").send_text("stuck")
        await wait_until(lambda: len(fake.calls_of("getUpdates")) >= 2)
        await asyncio.sleep(1.0)  # settle into the longest wait
        polls = len(fake.calls_of("getUpdates"))
        await asyncio.sleep(2.0)
        assert len(fake.calls_of("getUpdates")) - polls <= 6  # about 2 a second, not 100
        await fake.client(942, "Boris").send_text("new")
        await wait_until(lambda: handled == ["new"], seconds=1.5)
        release.set()
        await wait_until(lambda: len(handled) == 2)
        await polling.stop()
    assert fake.pending_updates() == []
