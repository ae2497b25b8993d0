"""The demo's report: what each client, the managers' chat and the manager saw, as plain text.

Messages are shown as Telegram displays them (markup rendered away, buttons in their rows).
A message that was edited after it arrived is shown as it arrived, then what the edit added,
because the keyboard a client tapped is gone from the final version.
"""

from __future__ import annotations

import csv
import io
from typing import TextIO

from bot.demo.results import ClientRun, DemoResult
from bot.sandbox import SentMessage
from bot.sandbox.formatting import plain_text

INDENT = "    "
WHO_WIDTH = 6  # "client"; names longer than that push their own lines only
KB = 1024


def _visible(message: SentMessage) -> str:
    content = message.content
    if not content:
        return ""
    return plain_text(content, message.parse_mode)


def _keyboard(message: SentMessage) -> list[str]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [" ".join(f"[{button.get('text', '')}]" for button in row) for row in rows]


def _block(who: str, lines: list[str]) -> list[str]:
    """``who │ line`` for the first line, the rest aligned under it."""
    width = max(WHO_WIDTH, len(who))
    return [
        f"{INDENT}{who if i == 0 else '':<{width}} │ {line}".rstrip()
        for i, line in enumerate(lines)
    ]


def _message_lines(message: SentMessage) -> list[str]:
    lines = _visible(message).splitlines() or [""]
    if message.has_photo:
        lines.insert(0, "[photo]")
    if message.document_name:
        lines.insert(0, f"[file {message.document_name}]")
    return lines + _keyboard(message)


def _edit_lines(before: SentMessage, after: SentMessage) -> list[str]:
    """What an edit changed: the new tail when it only added lines, else the whole message."""
    old, new = _visible(before), _visible(after)
    shown = new[len(old) :].strip("\n") if new.startswith(old) else new
    lines = [f"(edited) {line}" if i == 0 else line for i, line in enumerate(shown.splitlines())]
    return (lines or ["(edited: keyboard removed)"]) + _keyboard(after)


def _client(run: ClientRun, total: int) -> list[str]:
    plan = run.plan
    facts = [
        f"ticket {plan.ticket_id}",
        f"agent {plan.agent}",
        f"team {plan.team}",
        f"channel {plan.channel}",
    ]
    if plan.company:
        facts.append(f"company {plan.company}")
    how = "opened the deep link" if plan.via_link else "the helpdesk knew the Telegram id"
    lines = [
        f"Client {plan.number}/{total}: {plan.name} ({plan.language}) · {' · '.join(facts)}",
        f"{INDENT}reached: {how}; scored {plan.score} ({plan.category})",
    ]
    for message in run.messages:
        if not message.from_bot:
            lines += _block("client", _message_lines(message))
            continue
        first = run.seen.get(message.message_id, message)
        lines += _block("bot", _message_lines(first))
        if message.message_id in run.pressed:
            lines += _block("client", [f"pressed [{run.pressed[message.message_id]}]"])
        if first is not message and (
            _visible(first) != _visible(message) or first.reply_markup != message.reply_markup
        ):
            lines += _block("bot", _edit_lines(first, message))
    return lines


def _csv_rows(data: bytes) -> int:
    return max(len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) - 1, 0)


def render(result: DemoResult, stream: TextIO) -> None:
    """Write the whole report to ``stream``."""
    out: list[str] = []
    total = len(result.clients)
    out += ["", f"=== Clients ({total}, seed {result.seed}) ==="]
    for run in result.clients:
        out += ["", *_client(run, total)]

    out += ["", f"=== Managers' chat: {len(result.alerts)} detractor alerts (as they read now) ==="]
    for run in result.clients:
        if run.alert is not None:
            out += [
                "",
                f"Alert about {run.plan.ticket_id}:",
                *_block("bot", _message_lines(run.alert)),
            ]

    if result.manager is not None:
        manager = result.manager
        out += ["", f"=== Manager {manager.name}: the case of {manager.case_of.plan.ticket_id} ==="]
        for step in manager.steps:
            toast = f' -> "{step.toast}"' if step.toast else ""
            out += _block(manager.name, [f"pressed [{step.button}]{toast}"])
        out.append(f"{INDENT}private chat with the bot:")
        for message in manager.private_chat:
            out += _block("bot" if message.from_bot else manager.name, _message_lines(message))

    out += ["", "=== Digest, posted to the managers' chat ==="]
    for message in result.digest:
        out += [*_block("bot", _message_lines(message)), ""]

    chart_kb = result.chart.stat().st_size / KB
    rows = _csv_rows(result.csv.read_bytes())
    out += [
        "=== Files (what the managers received) ===",
        f"Folder: {result.folder.resolve()}",
        f"{INDENT}{result.chart.name}  the chart (PNG, {chart_kb:.0f} KB)",
        f"{INDENT}{result.csv.name}  the responses ({rows} rows)",
    ]
    if result.transcript is not None:
        out.append(f"{INDENT}{result.transcript.name}  this report")
    stream.write("\n".join(out) + "\n")


def save_transcript(result: DemoResult) -> None:
    """Keep the report beside the files it describes."""
    result.transcript = result.folder / "transcript.txt"
    buffer = io.StringIO()
    render(result, buffer)
    result.transcript.write_text(buffer.getvalue(), encoding="utf-8")
