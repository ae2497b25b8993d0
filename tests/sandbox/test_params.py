"""Request decoding: form, JSON and multipart bodies as PTB/httpx produce them."""

from __future__ import annotations

import json

import httpx

from bot.sandbox.models import UploadedFile
from bot.sandbox.params import parse_body


def test_form_values_are_typed_by_parameter_name() -> None:
    body = (
        "chat_id=42&text=42&show_alert=true&reply_markup="
        + "%7B%22inline_keyboard%22%3A%5B%5D%7D&message_id=7&disable_notification=false"
    )
    params = parse_body("", "application/x-www-form-urlencoded", body.encode())
    assert params == {
        "chat_id": 42,
        "text": "42",
        "show_alert": True,
        "reply_markup": {"inline_keyboard": []},
        "message_id": 7,
        "disable_notification": False,
    }


def test_channel_usernames_and_query_strings() -> None:
    params = parse_body("offset=-1&timeout=2", "", b"")
    assert params == {"offset": -1, "timeout": 2}
    assert parse_body("chat_id=%40news", "", b"") == {"chat_id": "@news"}


def test_json_body_keeps_native_types_and_decodes_json_strings() -> None:
    body = json.dumps({"chat_id": -100, "reply_markup": '{"remove_keyboard": true}'})
    params = parse_body("", "application/json; charset=utf-8", body.encode())
    assert params == {"chat_id": -100, "reply_markup": {"remove_keyboard": True}}


def test_multipart_upload_keeps_bytes_and_odd_file_names() -> None:
    payload = b'score;comment\r\n10;"ok"\r\n--not-a-boundary\r\n\x00\xff'
    request = httpx.Request(
        "POST",
        "http://fake/botT/sendDocument",
        data={"chat_id": "5", "caption": "Отчёт"},
        files={"document": ('отчёт "week".csv', payload, "text/csv")},
    )
    body = request.read()
    params = parse_body("", request.headers["content-type"], body)
    assert params["chat_id"] == 5
    assert params["caption"] == "Отчёт"
    upload = params["document"]
    assert isinstance(upload, UploadedFile)
    assert upload.filename == 'отчёт "week".csv'
    assert upload.content_type == "text/csv"
    assert upload.data == payload
