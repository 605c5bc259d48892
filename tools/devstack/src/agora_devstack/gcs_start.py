"""Start the local Cloud Storage emulator (gcp-storage-emulator) on one address, in memory.

Run as a script, never imported, so it needs nothing but the package (docker-compose.emulators.yml
runs this same file in a container with only gcp-storage-emulator installed). For example

    python gcs_start.py --port 9023 --bucket agora-sources

The package's own CLI binds the address it is given (0.0.0.0 in its examples), keeps its data on
disk unless told otherwise, and hangs for good when its port is taken (the server thread dies and
the CLI waits on it). This script builds the same server from the package's parts (its Storage,
in memory, and its request handler), binds --host (127.0.0.1 unless given), creates each --bucket
before it says it is ready, and exits with one line when it cannot listen.

It also makes object writes honour `ifGenerationMatch`, which the package ignores: with it, an
upload (simple, multipart or resumable) that names a generation other than the object's current
one (0: "must not exist") is answered 412 conditionNotMet, as Cloud Storage does, instead of
overwriting. That is the precondition the services' create-only writes rely on. The server
handles one request at a time, so the check and the write cannot interleave.

What else it does and does not do (tests/devstack/test_gcs_emulator.py checks each): objects are
stored, listed, read (ranges too), deleted, with md5Hash and crc32c computed from their bytes and
checked against the ones a client sends (400 on a mismatch); a missing object or bucket is a 404.
No other precondition (ifGenerationNotMatch, ifMetagenerationMatch) is honoured, reads ignore
`generation`, IAM is not enforced, and object names are stored as paths: names with empty, "."
or ".." segments are refused or collide.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from functools import partial
from http import HTTPStatus
from types import FrameType
from typing import Any

READY_MESSAGE = "gcs emulator ready on"
# A client that stalls mid-request is dropped after this long (requests are served one at a time).
SOCKET_TIMEOUT_S = 30.0

_PRECONDITION_FAILED = {
    "error": {
        "code": 412,
        "message": "At least one of the pre-conditions you specified did not hold.",
        "errors": [
            {
                "domain": "global",
                "reason": "conditionNotMet",
                "message": "At least one of the pre-conditions you specified did not hold.",
                "locationType": "header",
                "location": "If-Match",
            }
        ],
    }
}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="gcs_start.py", description="Run the local Cloud Storage emulator, in memory."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to serve HTTP on")
    parser.add_argument("--port", type=int, required=True, help="port to serve HTTP on")
    parser.add_argument(
        "--bucket", action="append", default=[], metavar="NAME", help="create at start; may repeat"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def _object_name(request: Any, storage: Any) -> str | None:
    """The object an upload request writes, wherever its kind of upload names it."""
    upload_id = request.query.get("upload_id")
    if upload_id:
        return str(storage.get_resumable_file_obj(upload_id[0])["name"])
    if "name" in request.query:
        return str(request.query["name"][0])
    data = request.data
    if isinstance(data, dict):
        meta = data.get("meta", data)  # multipart: the metadata part; resumable: the JSON body
        if isinstance(meta, dict) and meta.get("name"):
            return str(meta["name"])
    return None


def _honouring_generation_match(handler: Any, not_found: type[Exception]) -> Any:
    def guarded(request: Any, response: Any, storage: Any, *args: Any, **kwargs: Any) -> Any:
        wanted = request.query.get("ifGenerationMatch")
        try:
            name = _object_name(request, storage) if wanted else None
        except not_found:  # an unknown resumable upload: the handler answers 404
            name = None
        if wanted and name is not None:
            try:
                current = storage.get_file_obj(request.params["bucket_name"], name)["generation"]
            except not_found:
                current = "0"
            if str(current) != wanted[0]:
                response.status = HTTPStatus.PRECONDITION_FAILED
                response.json(_PRECONDITION_FAILED)
                return None
        return handler(request, response, storage, *args, **kwargs)

    return guarded


def _patch_uploads() -> None:
    """Every route to an upload handler goes through the ifGenerationMatch check first."""
    from gcp_storage_emulator import server
    from gcp_storage_emulator.exceptions import NotFound
    from gcp_storage_emulator.handlers import objects

    guarded = {
        original: _honouring_generation_match(original, NotFound)
        for original in (objects.insert, objects.upload_partial)
    }
    for _pattern, methods in server.HANDLERS:
        for method, handler in methods.items():
            if handler in guarded:
                methods[method] = guarded[handler]
    # The router's fallback for uploads posted without /upload, and the resumable path's own call.
    objects.insert = guarded[objects.insert]
    objects.upload_partial = guarded[objects.upload_partial]


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; return 1 with a one-line message if the port is taken."""
    args = _parse_args(argv)
    # Only where the emulator is installed.
    from http.server import HTTPServer

    from gcp_storage_emulator.handlers.buckets import create_bucket
    from gcp_storage_emulator.server import RequestHandler
    from gcp_storage_emulator.storage import Storage

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    _patch_uploads()
    # In memory: nothing is written to disk (the data dir must still be an absolute path).
    storage = Storage(use_memory_fs=True, data_dir="/")
    for bucket in args.bucket:
        create_bucket(bucket, storage)

    class Handler(RequestHandler):
        timeout = SOCKET_TIMEOUT_S

    address = f"{args.host}:{args.port}"
    try:
        httpd = HTTPServer((args.host, args.port), partial(Handler, storage))
    except OSError as error:
        print(f"gcs emulator: cannot listen on {address} ({error})", file=sys.stderr, flush=True)
        return 1

    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    serving = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2})
    serving.start()
    buckets = ", ".join(args.bucket) or "none"
    print(f"{READY_MESSAGE} {address} (in memory; buckets: {buckets})", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        httpd.shutdown()
        httpd.server_close()
        serving.join(timeout=5)
    print("gcs emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
