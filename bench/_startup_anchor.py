"""The start-up anchor of bench/startup.py: the bot a user would write by hand with PTB 22 alone.

A bare ``telegram.ext.Application`` with one ``/start`` handler, long-polling the same fake Bot
API as ``npsbot run`` with PTB's own Updater and HTTPX request, on the default asyncio loop:
nothing of npsbot is imported. So bench/startup.py can measure it exactly as it measures npsbot
(spawn -> ``GET /healthz``, then VmRSS), it answers ``/healthz`` with a few lines of the standard
library's ``asyncio.start_server`` once polling has started, the moment npsbot's uvicorn would
answer too. SIGTERM or SIGINT stops it.

    BENCH_TOKEN=123456:TEST BENCH_API_URL=http://127.0.0.1:8081/bot BENCH_HTTP_PORT=8080 \\
        python bench/_startup_anchor.py
"""

from __future__ import annotations

import asyncio
import os
import signal

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes


async def hello(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text("Hello!")


async def healthz(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """200 to any request: being able to answer is the readiness measured."""
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
    finally:
        writer.close()


async def main() -> None:
    api_url = os.environ["BENCH_API_URL"]
    head, _, tail = api_url.rstrip("/").rpartition("/")
    application = (
        Application.builder()
        .token(os.environ["BENCH_TOKEN"])
        .base_url(api_url)
        .base_file_url(f"{head}/file/{tail}")
        .build()
    )
    application.add_handler(CommandHandler("start", hello))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling()
        server = await asyncio.start_server(
            healthz, "127.0.0.1", int(os.environ["BENCH_HTTP_PORT"])
        )
        try:
            await stop.wait()
        finally:
            server.close()
            await application.updater.stop()
            await application.stop()


if __name__ == "__main__":
    asyncio.run(main())
