"""The demo's settings come from the fake alone: a developer's real token or .env never leaks in."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo.settings import demo_settings
from bot.sandbox import FakeBotApi


async def test_environment_and_dotenv_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "NPSBOT_TELEGRAM_API_URL=https://api.telegram.org/bot\nNPSBOT_TEXTS_FILE=/nonexistent\n"
    )
    monkeypatch.setenv("NPSBOT_TELEGRAM_TOKEN", "111:REAL-TOKEN")
    monkeypatch.setenv("NPSBOT_ALERT_ROUTES", "team:L2=-100999")
    monkeypatch.setenv("NPSBOT_REVIEW_URL", "https://real.example/review")
    async with FakeBotApi() as fake:
        settings = demo_settings(fake, database_url="sqlite+aiosqlite://", api_token="t")
    assert settings.require_token() == fake.token
    assert settings.telegram_api_url.startswith("http://127.0.0.1:")
    assert settings.alert_routes == [] and settings.review_url is None
    assert settings.texts_file is None
    assert settings.survey_delay_minutes == 0
