"""deploy/compose.yaml, as Docker Compose itself reads it.

``docker-compose config`` validates the file and resolves it (interpolation, env files)
without an engine. The file is copied into a temporary tree laid out like the repository,
with deploy/.env made from deploy/.env.example as the README says, so the check also proves
that Compose accepts the example env file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.test_systemd_unit import drain_seconds

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "0123456789abcdef"


def compose_command() -> list[str]:
    """Debian's docker-compose (v1), or the Compose v2 plugin if that is what is installed."""
    if binary := shutil.which("docker-compose"):
        return [binary]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(  # noqa: S603
            [docker, "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    pytest.skip("docker-compose is not installed (apt-get install docker-compose); .ci/run does")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of deploy/ with a .env made from the example and a database password set."""
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    shutil.copy(REPO / "deploy" / "compose.yaml", deploy)
    example = (REPO / "deploy" / ".env.example").read_text(encoding="utf-8")
    (deploy / ".env").write_text(
        example.replace("\nPOSTGRES_PASSWORD=\n", f"\nPOSTGRES_PASSWORD={PASSWORD}\n")
    )
    return deploy


def config(project: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COMPOSE_", "DOCKER_", "POSTGRES_", "HTTP_PUBLISH"))
    }
    return subprocess.run(  # noqa: S603
        [*compose_command(), "-f", str(project / "compose.yaml"), "config"],
        capture_output=True,
        text=True,
        check=False,
        cwd=project.parent,  # the repository root, as deploy/README.md runs it
        env={**env, **environment},
        timeout=120,
    )


def resolved(project: Path, **environment: str) -> dict[str, Any]:
    result = config(project, **environment)
    assert result.returncode == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    assert isinstance(document, dict)
    return document


def published(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host address, host port) of each published port, in short or long syntax."""
    ports = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.append((str(port.get("host_ip", "0.0.0.0")), str(port.get("published"))))  # noqa: S104
            continue
        parts = str(port).split("/")[0].split(":")
        if len(parts) == 3:  # ip:host:container
            ports.append((parts[0], parts[1]))
        else:  # host:container or container alone: every interface
            ports.append(("0.0.0.0", parts[0]))  # noqa: S104
    return ports


def test_the_file_validates_and_publishes_the_bot_on_loopback_only(project: Path) -> None:
    services = resolved(project)["services"]
    assert published(services["npsbot"]) == [("127.0.0.1", "8080")]
    assert published(services["postgres"]) == []
    for name, service in services.items():
        for address, _port in published(service):
            every_interface = address in ("0.0.0.0", "::", "")  # noqa: S104
            assert not every_interface, f"{name} is published on every interface"


def test_the_publish_address_can_be_changed(project: Path) -> None:
    services = resolved(project, HTTP_PUBLISH="10.1.2.3:9000")["services"]
    assert published(services["npsbot"]) == [("10.1.2.3", "9000")]


def test_bot_waits_for_a_healthy_postgresql_and_uses_asyncpg(project: Path) -> None:
    services = resolved(project)["services"]
    bot, postgres = services["npsbot"], services["postgres"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    environment = bot["environment"]
    assert environment["NPSBOT_DATABASE_URL"] == (
        f"postgresql+asyncpg://npsbot:{PASSWORD}@postgres:5432/npsbot"
    )
    assert postgres["environment"]["POSTGRES_PASSWORD"] == PASSWORD
    assert environment["NPSBOT_HTTP_HOST"] == "0.0.0.0"  # noqa: S104  (inside the container)


def test_services_restart_and_keep_their_data_in_named_volumes(project: Path) -> None:
    document = resolved(project)
    named = set(document["volumes"])
    for name, service in document["services"].items():
        assert service["restart"] in ("always", "unless-stopped"), name
        sources = {
            volume["source"] if isinstance(volume, dict) else str(volume).split(":")[0]
            for volume in service["volumes"]
        }
        assert sources and sources <= named, f"{name} keeps data outside named volumes"


def test_a_missing_database_password_is_named(project: Path) -> None:
    env_file = project / ".env"
    env_file.write_text(env_file.read_text().replace(f"POSTGRES_PASSWORD={PASSWORD}", ""))
    result = config(project)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_the_bot_gets_time_to_drain_on_stop(project: Path) -> None:
    grace = resolved(project)["services"]["npsbot"]["stop_grace_period"]
    assert str(grace).endswith("s")
    assert int(str(grace).removesuffix("s")) >= drain_seconds()
