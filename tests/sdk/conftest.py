"""The demo agent served once for the tests that do not need their own configuration."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.sdk.factories import running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with running() as http:
        yield http
