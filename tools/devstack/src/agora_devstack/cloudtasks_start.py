"""Start the local Cloud Tasks emulator (gcloud-tasks-emulator) on one address, with capped retries.

Run as a script by the interpreter of the emulator's own environment (tools/cloudtasks/.venv, see
tools/cloudtasks/pyproject.toml), never imported: that environment has gcloud-tasks-emulator but not
agora_devstack, and the workspace has agora_devstack but not gcloud-tasks-emulator (it pins
protobuf<5). For example

    tools/cloudtasks/.venv/bin/python cloudtasks_start.py --port 8123

The package's own CLI serves its gRPC API on every interface ([::]) and retries a failed task at
once and forever unless told otherwise. This script builds the same server from the package's parts
(its in-memory QueueState, its gRPC servicer and its queue Processor), but binds --host (127.0.0.1
unless given) and gives up on a task after --max-retries failed attempts (3 unless given).

What the emulator does and does not do: queues can be created, listed, read, paused, resumed, purged
and deleted; HTTP tasks are delivered as real requests with their body, their headers and the
X-CloudTasks-* headers, at their schedule_time; RunTask and ListTasks work. GetTask and DeleteTask
answer UNIMPLEMENTED; an OIDC token is ignored (no Authorization header is sent); a task name that
is already taken is accepted (and the task delivered twice); retries follow no backoff.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import warnings
from concurrent import futures
from types import FrameType

READY_MESSAGE = "cloud tasks emulator ready on"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="cloudtasks_start.py", description="Run the local Cloud Tasks emulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to serve gRPC on")
    parser.add_argument("--port", type=int, required=True, help="port to serve gRPC on")
    parser.add_argument(
        "--max-retries",
        type=int,
        default=3,
        help="attempts after the first before a failing task is dropped (default 3; -1: forever)",
    )
    parser.add_argument(
        "--default-queue",
        action="append",
        default=[],
        metavar="NAME",
        help="create this queue at start (projects/P/locations/L/queues/Q); may repeat",
    )
    # App Engine tasks carry only a relative URI; they go to this host and port (the package's
    # defaults). HTTP tasks carry their full URL.
    parser.add_argument("--target-host", default="localhost")
    parser.add_argument("--target-port", type=int, default=80)
    parser.add_argument("--quiet", action="store_true", help="log errors only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; return 1 with a one-line message if the port is taken."""
    args = _parse_args(argv)
    # google-api-core warns on import that it will drop Python 3.11 one day: noise in the log.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\.api_core\.")
    # Only in the emulator's environment.
    import grpc
    from gcloud_tasks_emulator.cloudtasks_pb2_grpc import add_CloudTasksServicer_to_server
    from gcloud_tasks_emulator.server import Greeter, Processor, QueueState
    from google.cloud.tasks_v2 import Queue

    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    state = QueueState(args.target_host, args.target_port, args.max_retries)
    for name in args.default_queue:
        state.create_queue(name.rsplit("/", 2)[0], Queue(name=name))

    # As the package's APIThread builds it, but on args.host rather than [::], with more workers.
    # No SO_REUSEPORT (gRPC's default): a second emulator on a taken port must fail, not share it.
    api = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.so_reuseport", 0)])
    add_CloudTasksServicer_to_server(Greeter(state), api)
    address = f"{args.host}:{args.port}"
    try:
        bound = api.add_insecure_port(address)
    except RuntimeError:  # grpcio raises where it cannot bind; older versions return 0
        bound = 0
    if not bound:
        print(f"cloud tasks emulator: cannot listen on {address}", file=sys.stderr, flush=True)
        return 1

    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    api.start()
    processor = Processor(state)  # one thread per queue, delivering its due tasks
    processor.start()
    retries = "forever" if args.max_retries < 0 else f"at most {args.max_retries} times"
    print(f"{READY_MESSAGE} {address} (failed tasks retried {retries})", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        processor.join(timeout=1)
        api.stop(grace=0).wait(timeout=5)
    print("cloud tasks emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
