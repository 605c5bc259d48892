"""Parsed URLs are reused, and equal to what httpx parses."""

from __future__ import annotations

import httpx
import pytest

from agora_common.urls import parsed_url


def test_a_url_is_parsed_once_and_reused() -> None:
    text = "http://127.0.0.1:8081/abc?q=qu%C3%A9ry&limit=5"
    first = parsed_url(text)
    assert first == httpx.URL(text)
    assert first.raw_path == b"/abc?q=qu%C3%A9ry&limit=5"
    assert parsed_url(text) is first


def test_long_urls_are_parsed_each_time() -> None:
    text = "http://127.0.0.1:8081/search?q=" + "x" * 600
    assert parsed_url(text) == httpx.URL(text)
    assert parsed_url(text) is not parsed_url(text)


def test_invalid_urls_still_fail() -> None:
    with pytest.raises(httpx.InvalidURL):
        parsed_url("http://[::1")
