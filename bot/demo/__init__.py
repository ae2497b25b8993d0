"""``npsbot demo``: the whole product on one machine, against the built-in fake Telegram.

``cast`` decides who the clients are and what they will press (seeded, no I/O), ``settings``
builds the bot's settings from nothing but the fake, ``scenario`` plays helpdesk, clients and a
manager against the real ``NpsBot``, ``output`` tells what each of them saw, and ``command``
puts them together for the CLI.
"""

from bot.demo.command import demo
from bot.demo.results import DemoError, DemoResult
from bot.demo.scenario import run_demo

__all__ = ["DemoError", "DemoResult", "demo", "run_demo"]
