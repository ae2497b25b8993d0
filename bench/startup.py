"""Start-up time and idle memory of ``npsbot run`` (SQLite default), beside a bare PTB bot.

Starts ``python -m bot.sandbox`` (the fake Bot API), then alternates, A/B/A/B, ``npsbot run``
and the anchor: ``bench/_startup_anchor.py``, a bare PTB 22 ``Application`` with one handler
that long-polls the same fake, the bot a user would write by hand. Each runs as a subprocess in
a temporary directory (npsbot's default SQLite file, ``npsbot.db``, is fresh for its first run
and reused after). Start-up is measured from the spawn until ``GET /healthz`` answers (npsbot's
HTTP server starts last: migrations, getMe, command menus, jobs, polling and the dispatcher are
up by then; the anchor answers once its polling has started). Then each idles for ``--idle``
seconds, polling the fake; we read VmRSS/VmHWM from /proc and the CPU it used while idle.
Also reported: the cold ``import bot.app`` and ``import telegram.ext`` times alone.

    python bench/startup.py --repeat 3 --idle 30 --write
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, hold_bench_lock, loadavg, report, table

ANCHOR = Path(__file__).resolve().with_name("_startup_anchor.py")
TOKEN = "123456:TEST"  # noqa: S105  (the fake's token)
TARGET_STARTUP = 1.5  # seconds, spawn -> /healthz (issue 15)
TARGET_RSS = 110.0  # MiB after the idle time (issue 15)
MANAGERS = -1001234567890


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def npsbot_command() -> list[str]:
    found = shutil.which("npsbot")
    return [found, "run"] if found else [sys.executable, "-m", "bot", "run"]


def npsbot_env(fake_port: int, http_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPSBOT_")}
    env.update(
        NPSBOT_TELEGRAM_TOKEN=TOKEN,
        NPSBOT_TELEGRAM_API_URL=f"http://127.0.0.1:{fake_port}/bot",
        NPSBOT_HTTP_HOST="127.0.0.1",
        NPSBOT_HTTP_PORT=str(http_port),
        NPSBOT_MANAGER_CHAT_ID=str(MANAGERS),
        PYTHONPATH=str(ROOT),
    )
    return env


def anchor_env(fake_port: int, http_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NPSBOT_", "BENCH_"))}
    env.update(
        BENCH_TOKEN=TOKEN,
        BENCH_API_URL=f"http://127.0.0.1:{fake_port}/bot",
        BENCH_HTTP_PORT=str(http_port),
    )
    return env


def one_run(
    command: Sequence[str], env: dict[str, str], http_port: int, workdir: Path, idle: float
) -> dict[str, float]:
    """Spawn ``command``, wait for its /healthz, idle, read its memory and CPU, SIGTERM it."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while not healthy(http_port):
            if process.poll() is not None:
                raise SystemExit(f"{command} exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.01)
        startup = time.perf_counter() - started
        rss_started = status_mib(process.pid, "VmRSS")
        cpu_before = cpu_seconds(process.pid)
        time.sleep(idle)
        idle_cpu = (cpu_seconds(process.pid) - cpu_before) / idle
        rss_idle = status_mib(process.pid, "VmRSS")
        hwm = status_mib(process.pid, "VmHWM")
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
        shutdown = time.perf_counter() - stopping
    finally:
        if process.poll() is None:
            process.kill()
    return {
        "startup": startup,
        "rss_started": rss_started,
        "rss_idle": rss_idle,
        "hwm": hwm,
        "idle_cpu": idle_cpu,
        "shutdown": shutdown,
        "exit": float(process.returncode),
    }


def import_time(module: str) -> float:
    """A fresh interpreter importing ``module`` and exiting (its own start included)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, check=True)
    return time.perf_counter() - started


def median(results: Sequence[dict[str, float]], key: str) -> float:
    return statistics.median(result[key] for result in results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs: npsbot, anchor")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds idle before measuring")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    hold_bench_lock()  # two benchmarks at once would share the two CPUs
    load_before = loadavg()
    fake_port = free_port()
    fake = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox", "--port", str(fake_port), "--group", str(MANAGERS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    runs: list[tuple[str, dict[str, float]]] = []
    try:
        assert fake.stdout is not None
        fake.stdout.readline()  # "Fake Telegram Bot API listening on ..."
        imports = {module: import_time(module) for module in ("bot.app", "telegram.ext")}
        with (
            tempfile.TemporaryDirectory(prefix="npsbot-bench-") as workdir,
            tempfile.TemporaryDirectory(prefix="anchor-bench-") as anchor_dir,
        ):
            for index in range(args.repeat):  # A/B/A/B: the machine's minute is the same for both
                port = free_port()
                name = "npsbot, fresh DB (migrates)" if index == 0 else "npsbot, existing DB"
                result = one_run(
                    npsbot_command(), npsbot_env(fake_port, port), port, Path(workdir), args.idle
                )
                result["load"] = loadavg()  # type: ignore[assignment]
                print(name, result, flush=True)
                runs.append((name, result))
                port = free_port()
                result = one_run(
                    [sys.executable, str(ANCHOR)],
                    anchor_env(fake_port, port),
                    port,
                    Path(anchor_dir),
                    args.idle,
                )
                result["load"] = loadavg()  # type: ignore[assignment]
                print("anchor", result, flush=True)
                runs.append(("anchor: bare PTB Application", result))
    finally:
        fake.send_signal(signal.SIGINT)
        fake.wait(timeout=30)
    report(
        "startup",
        "Start-up time and idle memory of `npsbot run`, beside a bare PTB bot",
        report_body(runs, imports, args.idle, load_before),
        write=args.write,
    )


def report_body(
    runs: Sequence[tuple[str, dict[str, float]]],
    imports: dict[str, float],
    idle: float,
    load_before: str,
) -> str:
    rows = [
        (
            index // 2 + 1,
            name,
            f"{r['startup']:.2f}",
            f"{r['rss_started']:.0f}",
            f"{r['rss_idle']:.0f}",
            f"{r['hwm']:.0f}",
            f"{r['idle_cpu']:.1%}",
            f"{r['shutdown']:.2f}",
            int(r["exit"]),
            r["load"],
        )
        for index, (name, r) in enumerate(runs)
    ]
    bots = [r for name, r in runs if name.startswith("npsbot")]
    restarts = [r for name, r in runs if name == "npsbot, existing DB"] or bots
    anchors = [r for name, r in runs if name.startswith("anchor")]
    summary = []
    for label, key, unit, target in (
        ("start-up (spawn -> /healthz)", "startup", "s", TARGET_STARTUP),
        ("RSS at start", "rss_started", "MiB", None),
        (f"RSS after {idle:g} s idle", "rss_idle", "MiB", TARGET_RSS),
    ):
        ours, theirs = median(restarts, key), median(anchors, key)
        fmt = "{:.2f}" if unit == "s" else "{:.0f}"
        summary.append(
            (
                f"{label}, {unit}",
                fmt.format(ours),
                fmt.format(median(bots[:1], key)),
                fmt.format(theirs),
                f"{ours / theirs:.2f}x",
                "-"
                if target is None
                else f"<= {target:g} ({'met' if ours <= target else 'not met'})",
            )
        )
    return (
        "`npsbot run` with the default SQLite database and the anchor "
        "(`bench/_startup_anchor.py`: a bare PTB 22 `Application`, one handler, PTB's own "
        "Updater), run alternately, each "
        f"polling `python -m bot.sandbox` (flood limits on); idle {idle:g} s before memory is "
        f"read. Cold `import bot.app`: {imports['bot.app']:.2f} s; cold `import telegram.ext`: "
        f"{imports['telegram.ext']:.2f} s (each a fresh interpreter).\n\n"
        + table(
            [
                "measure",
                f"npsbot, existing DB (median of {len(restarts)})",
                "npsbot, fresh DB",
                f"anchor (median of {len(anchors)})",
                "npsbot / anchor",
                "target (npsbot)",
            ],
            summary,
        )
        + "\n\nEvery run, in the order run:\n\n"
        + table(
            [
                "pair",
                "run",
                "start-up s (spawn -> /healthz)",
                "RSS at start MiB",
                f"RSS after {idle:g} s idle MiB",
                "peak RSS MiB",
                "idle CPU",
                "SIGTERM -> exit s",
                "exit code",
                "load avg after",
            ],
            rows,
        )
        + f"\n\nLoad average before: {load_before}."
    )


if __name__ == "__main__":
    main()
