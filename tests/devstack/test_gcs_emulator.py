"""The local Cloud Storage emulator: what the services rely on works, and its gaps stay known.

Most checks use the session's emulator (as started by the launcher, through gcs_start.py); one runs
the package's own server, unpatched, to pin the gap gcs_start.py closes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import google_crc32c
import pytest
from google.api_core import exceptions as google_exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from agora_devstack import emulator_kinds, emulators
from agora_devstack.emulators import SOURCE_BUCKET, EmulatorPorts, EmulatorSuite
from agora_devstack.processes import ToolMissingError

pytestmark = pytest.mark.integration

GCS_SCRIPT = Path(emulators.__file__).with_name("gcs_start.py")


def client_for(endpoint: str) -> storage.Client:
    return storage.Client(
        project="demo-agora-test",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=endpoint),
    )


@pytest.fixture(scope="module")
def bucket(emulator_env: dict[str, str]) -> Iterator[storage.Bucket]:
    client = client_for(emulator_env["STORAGE_EMULATOR_HOST"])
    yield client.bucket(SOURCE_BUCKET)
    client.close()


def fresh() -> str:
    return f"tests/emulator/{uuid.uuid4().hex}"


def test_the_sources_bucket_exists_from_the_start(bucket: storage.Bucket) -> None:
    assert bucket.exists()


@pytest.mark.parametrize("size", [10, 9 * 1024 * 1024], ids=["multipart", "resumable"])
def test_create_only_writes_are_refused_with_412(bucket: storage.Bucket, size: int) -> None:
    name = fresh()
    bucket.blob(name).upload_from_string(b"a" * size, if_generation_match=0)
    with pytest.raises(google_exceptions.PreconditionFailed):
        bucket.blob(name).upload_from_string(b"b" * size, if_generation_match=0)
    assert bucket.blob(name).download_as_bytes() == b"a" * size


def test_a_generation_match_overwrites_only_the_current_generation(
    bucket: storage.Bucket,
) -> None:
    name = fresh()
    bucket.blob(name).upload_from_string(b"v1", if_generation_match=0)
    first = bucket.get_blob(name)
    assert first is not None and first.generation
    bucket.blob(name).upload_from_string(b"v2", if_generation_match=first.generation)
    with pytest.raises(google_exceptions.PreconditionFailed):
        bucket.blob(name).upload_from_string(b"v3", if_generation_match=first.generation)
    assert bucket.blob(name).download_as_bytes() == b"v2"


def test_the_package_alone_ignores_if_generation_match(tmp_path: Path) -> None:
    """The gap gcs_start.py closes: should a version fix it, the patch can go."""
    from gcp_storage_emulator.server import create_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket="raw-bucket")
    server.start()
    client = client_for(f"http://127.0.0.1:{port}")
    try:
        blob = client.bucket("raw-bucket").blob("object")
        blob.upload_from_string(b"first", if_generation_match=0)
        blob.upload_from_string(b"second", if_generation_match=0)  # Cloud Storage: 412
        assert blob.download_as_bytes() == b"second"
    finally:
        client.close()
        server.stop()


def test_sizes_and_hashes_are_of_the_stored_bytes(bucket: storage.Bucket) -> None:
    name, data = fresh(), os.urandom(1000)
    bucket.blob(name).upload_from_string(data, content_type="application/gzip")
    stored = bucket.get_blob(name)
    assert stored is not None
    assert stored.size == len(data)
    assert stored.content_type == "application/gzip"
    assert stored.md5_hash == base64.b64encode(hashlib.md5(data).digest()).decode()  # noqa: S324
    assert stored.crc32c == base64.b64encode(google_crc32c.Checksum(data).digest()).decode()
    assert bucket.blob(name).download_as_bytes(start=10, end=19) == data[10:20]


def test_a_wrong_checksum_sent_with_an_upload_is_refused(bucket: storage.Bucket) -> None:
    blob = bucket.blob(fresh())
    blob.crc32c = base64.b64encode(b"\x00\x00\x00\x00").decode()
    with pytest.raises(google_exceptions.BadRequest, match="CRC32C"):
        blob.upload_from_string(b"data", checksum=None)
    assert not blob.exists()


def test_missing_objects_and_buckets_are_404(bucket: storage.Bucket) -> None:
    name = fresh()
    assert bucket.get_blob(name) is None
    assert not bucket.blob(name).exists()
    with pytest.raises(google_exceptions.NotFound):
        bucket.blob(name).download_as_bytes()
    other = bucket.client.bucket("agora-no-such-bucket")
    with pytest.raises(google_exceptions.NotFound):
        other.blob("x").upload_from_string(b"x")


def test_gap_reads_ignore_the_generation_asked_for(bucket: storage.Bucket) -> None:
    """Cloud Storage serves the generation named (or 404s): the emulator, the live one."""
    name = fresh()
    bucket.blob(name).upload_from_string(b"v1", if_generation_match=0)
    first = bucket.get_blob(name)
    assert first is not None
    bucket.blob(name).upload_from_string(b"v2", if_generation_match=first.generation)
    assert bucket.blob(name, generation=first.generation).download_as_bytes() == b"v2"


def test_gap_names_are_stored_as_paths(bucket: storage.Bucket) -> None:
    """`a//b` and `a/b` are two objects in Cloud Storage, one file here: why BlobStore refuses
    empty, "." and ".." segments (agora_common.blobs.check_blob_name)."""
    base = fresh()
    bucket.blob(f"{base}/a/b").upload_from_string(b"one")
    bucket.blob(f"{base}/a//b").upload_from_string(b"two")
    stored = bucket.get_blob(f"{base}/a/b")
    assert stored is not None
    # Its metadata is still the first object's; its bytes are the second's.
    assert stored.size == 3
    assert bucket.blob(f"{base}/a/b").download_as_bytes(checksum=None) == b"two"


def test_it_listens_on_loopback_only(emulator_env: dict[str, str]) -> None:
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        pytest.skip("needs /proc/net (Linux)")
    port = f"{int(emulator_env['STORAGE_EMULATOR_HOST'].rsplit(':', 1)[1]):04X}"
    listening = []
    for table in tables:
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if local_port == port and state == "0A":  # LISTEN
                listening.append(address)
    assert listening == ["0100007F"], listening


def test_it_starts_in_well_under_a_few_seconds(tmp_path: Path) -> None:
    started = time.monotonic()
    with EmulatorSuite(EmulatorPorts.free(), log_dir=tmp_path, only={"storage"}) as suite:
        elapsed = time.monotonic() - started
        client = client_for(suite.env()["STORAGE_EMULATOR_HOST"])
        try:
            assert client.bucket(SOURCE_BUCKET).exists()
        finally:
            client.close()
    assert elapsed < 5.0  # ~0.2 s alone


def test_a_taken_port_exits_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, str(GCS_SCRIPT), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if "cannot listen" in line
    ]
    assert f"127.0.0.1:{port}" in result.stderr


def test_a_missing_package_says_make_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = emulator_kinds.importlib.util.find_spec

    def without_emulator(name: str, *args: object) -> object:
        return None if name == "gcp_storage_emulator" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(emulator_kinds.importlib.util, "find_spec", without_emulator)
    suite = EmulatorSuite(EmulatorPorts.free(), log_dir=tmp_path, only={"storage"})
    with pytest.raises(ToolMissingError, match=r"gcp-storage-emulator.*run `make install`$"):
        suite.start()
    assert suite.children == {}
