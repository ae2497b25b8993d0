"""Start-up time and idle memory of ``npsbot run`` (SQLite default) against the standalone fake.

Starts ``python -m bot.sandbox`` and then ``npsbot run`` as subprocesses, in a temporary
directory so the default SQLite file (``npsbot.db``) is fresh. Start-up is measured from the
spawn until ``GET /healthz`` answers (the HTTP server starts last: migrations, getMe, command
menus, jobs, polling and the dispatcher are up by then). Then the bot idles for ``--idle``
seconds, polling the fake; we read VmRSS/VmHWM from /proc and the CPU it used while idle.
The first run creates and migrates the database; later runs reuse it. Also reported: the cold
``import bot.app`` time alone.

    python bench/startup.py --repeat 3 --idle 30 --write
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, loadavg, report, table

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


def one_run(workdir: Path, fake_port: int, idle: float) -> dict[str, float]:
    http_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPSBOT_")}
    env.update(
        NPSBOT_TELEGRAM_TOKEN="123456:TEST",
        NPSBOT_TELEGRAM_API_URL=f"http://127.0.0.1:{fake_port}/bot",
        NPSBOT_HTTP_HOST="127.0.0.1",
        NPSBOT_HTTP_PORT=str(http_port),
        NPSBOT_MANAGER_CHAT_ID=str(MANAGERS),
        PYTHONPATH=str(ROOT),
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        npsbot_command(), cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while not healthy(http_port):
            if process.poll() is not None:
                raise SystemExit(f"npsbot run exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
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
        process.wait(timeout=60)
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


def import_time() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import bot.app"], cwd=ROOT, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds idle before measuring")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    load_before = loadavg()
    fake_port = free_port()
    fake = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox", "--port", str(fake_port), "--group", str(MANAGERS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    results = []
    try:
        assert fake.stdout is not None
        fake.stdout.readline()  # "Fake Telegram Bot API listening on ..."
        imports = import_time()
        with tempfile.TemporaryDirectory(prefix="npsbot-bench-") as workdir:
            for index in range(args.repeat):
                result = one_run(Path(workdir), fake_port, args.idle)
                result["load"] = loadavg()  # type: ignore[assignment]
                print(index, result, flush=True)
                results.append(result)
    finally:
        fake.send_signal(signal.SIGINT)
        fake.wait(timeout=30)
    rows = [
        (
            "fresh DB (migrates)" if index == 0 else "existing DB",
            f"{r['startup']:.2f}",
            f"{r['rss_started']:.0f}",
            f"{r['rss_idle']:.0f}",
            f"{r['hwm']:.0f}",
            f"{r['idle_cpu']:.1%}",
            f"{r['shutdown']:.2f}",
            int(r["exit"]),
            r["load"],
        )
        for index, r in enumerate(results)
    ]
    body = (
        f"`npsbot run` with the default SQLite database, polling `python -m bot.sandbox` "
        f"(flood limits on); idle {args.idle:g} s before memory is read. Cold `import bot.app`: "
        f"{imports:.2f} s.\n\n"
        + table(
            [
                "run",
                "start-up s (spawn -> /healthz)",
                "RSS at start MiB",
                f"RSS after {args.idle:g} s idle MiB",
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
    report("startup", "Start-up time and idle memory of `npsbot run`", body, write=args.write)


if __name__ == "__main__":
    main()
