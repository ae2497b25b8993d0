"""deploy/Dockerfile: multi-stage, runs as an unprivileged user, health-checked without curl.

No Docker engine is needed: the file is parsed, and the HEALTHCHECK command itself is run
against a local HTTP server, the way Docker runs a shell-form check (``/bin/sh -c``).
"""

from __future__ import annotations

import http.server
import json
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"
ROOT_USERS = {"root", "0", "0:0", "root:root"}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions(text: str) -> list[Instruction]:
    """The instructions, with continuation lines joined and comments dropped."""
    found, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # comments may sit between continuation lines too
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return found


def stages() -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for instruction in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def runtime() -> list[Instruction]:
    return stages()[-1]


def last(keyword: str) -> Instruction:
    matching = [i for i in runtime() if i.keyword == keyword]
    assert matching, f"the runtime stage has no {keyword}"
    return matching[-1]


def env() -> dict[str, str]:
    values: dict[str, str] = {}
    for instruction in runtime():
        if instruction.keyword == "ENV":
            for pair in shlex.split(instruction.arguments):
                name, _, value = pair.partition("=")
                values[name] = value
    return values


def base_images() -> list[str]:
    """Each stage's FROM image, with the global ARG defaults substituted."""
    defaults: dict[str, str] = {}
    bases = []
    for instruction in instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if instruction.keyword == "ARG" and not bases:
            name, _, value = instruction.arguments.partition("=")
            defaults[name] = value
        elif instruction.keyword == "FROM":
            image = instruction.arguments.split()[0]
            for name, value in defaults.items():
                image = image.replace("${" + name + "}", value)
            bases.append(image)
    return bases


def test_builder_and_runtime_stages_on_python_slim() -> None:
    assert len(stages()) >= 2
    assert set(base_images()) == {"python:3.11-slim"}
    copies = [i.arguments for i in runtime() if i.keyword == "COPY"]
    assert any(c.startswith("--from=builder") for c in copies), "runtime copies the builder's venv"
    assert not any(i.keyword == "RUN" and "pip install" in i.arguments for i in runtime())


def test_runs_as_a_non_root_user() -> None:
    user = last("USER").arguments
    assert user not in ROOT_USERS
    assert user.split(":")[0].isdigit(), "a numeric uid lets orchestrators check runAsNonRoot"
    assert int(user.split(":")[0]) > 0


def test_runs_npsbot_run_reachable_inside_the_container() -> None:
    entrypoint = json.loads(last("ENTRYPOINT").arguments)
    command = json.loads(last("CMD").arguments)
    assert [*entrypoint, *command] == ["npsbot", "run"]
    values = env()
    assert values["NPSBOT_HTTP_HOST"] == "0.0.0.0"  # noqa: S104  (inside the container only)
    assert values["NPSBOT_DATABASE_URL"].startswith("sqlite+aiosqlite:////data/")
    volumes = [i.arguments for i in runtime() if i.keyword == "VOLUME"]
    assert any("/data" in volume for volume in volumes)


def test_healthcheck_asks_healthz_without_curl() -> None:
    check = last("HEALTHCHECK").arguments
    assert " CMD " in f" {check} "
    command = check.split("CMD", 1)[1].strip()
    assert "curl" not in command and "wget" not in command  # neither is in python:3.11-slim
    assert "127.0.0.1:${NPSBOT_HTTP_PORT:-8080}/healthz" in command


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/healthz" else 404
        self.send_response(code)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[http.server.HTTPServer]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    _Handler.status = 200


def run_healthcheck(port: int) -> int:
    """Run the HEALTHCHECK's command as Docker does for the shell form."""
    command = last("HEALTHCHECK").arguments.split("CMD", 1)[1].strip()
    environment = dict(os.environ)
    # `python` in the image is the venv's; here it is the interpreter running the tests.
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    environment["NPSBOT_HTTP_PORT"] = str(port)
    return subprocess.run(  # noqa: S603
        ["/bin/sh", "-c", command], env=environment, capture_output=True, check=False, timeout=30
    ).returncode


def test_healthcheck_passes_on_200_and_fails_otherwise(server: http.server.HTTPServer) -> None:
    port = server.server_address[1]
    assert run_healthcheck(port) == 0
    _Handler.status = 503
    assert run_healthcheck(port) == 1  # 1 is "unhealthy"; 2 is reserved by Docker
    server.shutdown()
    server.server_close()
    assert run_healthcheck(port) == 1  # nothing listens


def test_dockerignore_lets_in_only_what_the_build_copies() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "an allow-list: a local .env or database never reaches the image"
    allowed = {pattern[1:] for pattern in patterns if pattern.startswith("!")}
    sources = set()
    for instruction in stages()[0]:
        if instruction.keyword == "COPY" and not instruction.arguments.startswith("--from"):
            sources.update(instruction.arguments.split()[:-1])
    assert sources == allowed
