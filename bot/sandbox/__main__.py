"""``python -m bot.sandbox``: run the fake Bot API standalone and print where it listens."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from bot.sandbox.flood import FloodLimits
from bot.sandbox.server import FakeBotApi


def _parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox", description="Fake Telegram Bot API for local runs."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--bot-username", default="npsbot_test_bot")
    parser.add_argument("--no-flood-limits", action="store_true", help="disable 429 answers")
    parser.add_argument("--verbose", action="store_true", help="log every Bot API call")
    parser.add_argument(
        "--group",
        type=int,
        action="append",
        default=[],
        metavar="CHAT_ID",
        help="a (negative) group chat id the bot may post to; repeatable",
    )
    return parser.parse_args(argv)


async def _run(args: argparse.Namespace) -> None:
    fake = FakeBotApi(
        token=args.token,
        bot_username=args.bot_username,
        limits=FloodLimits(enabled=not args.no_flood_limits),
    )
    for chat_id in args.group:
        fake.add_group(chat_id)
    await fake.start(args.host, args.port)
    try:
        print(f"Fake Telegram Bot API listening on {fake.url}")
        print(f"  bot token: {fake.token}")
        print(f"  PTB base_url: {fake.base_url}")
        print(
            f"  act as user 42: curl -X POST {fake.url}/sandbox/chats/42/messages "
            """-H 'content-type: application/json' -d '{"text": "/start"}'"""
        )
        print(f"  read chat 42:   curl {fake.url}/sandbox/chats/42/messages")
        print("Press Ctrl+C to stop.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not available on Windows
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.verbose:
        logging.getLogger("bot.sandbox").setLevel(logging.DEBUG)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))


if __name__ == "__main__":
    main()
