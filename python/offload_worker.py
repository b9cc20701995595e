"""The worker side of an offload ProcessPool, for Python (docs/protocol.md).

    from offload_worker import serve

    def resize(payload, ctx):
        return {"thumb": make_thumbnail(payload["image"])}  # bytes travel as raw frames

    serve({"resize": resize})

Requests arrive on descriptor 3 and replies leave on descriptor 4, so print() goes to the
worker's log and never into the protocol. Binary values arrive as ``bytes``; ``bytes``,
``bytearray`` and ``memoryview`` results go back as Buffers. Handlers run one at a time on the
main thread; a reader thread takes requests and marks ``ctx.cancelled`` when the pool cancels
a task. Standard library only, Python 3.8+.
"""

import json
import os
import queue
import struct
import sys
import threading
import traceback

__all__ = ["serve", "Context"]

REQUESTS, REPLIES = 3, 4
RUN, CANCEL, READY, RESULT, ERROR = 1, 2, 3, 4, 5
_PREFIX = struct.Struct("<IBII")  # length, kind, id, header length
MAX_FRAME = 1 << 30  # a longer frame means a corrupt stream (docs/protocol.md)


class Context:
    """What a handler gets besides its payload."""

    def __init__(self, name):
        self.name = name
        self._cancelled = threading.Event()

    @property
    def cancelled(self):
        """True once the pool has cancelled this task (its signal fired or it timed out)."""
        return self._cancelled.is_set()


def _read_exact(f, n):
    data = bytearray()
    while len(data) < n:
        chunk = f.read(n - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def _read_frame(f):
    head = _read_exact(f, 4)
    if head is None:
        return None
    (length,) = struct.unpack("<I", head)
    if length > MAX_FRAME:
        raise ValueError(f"a frame of {length} bytes is over the {MAX_FRAME}-byte limit")
    body = _read_exact(f, length)
    if body is None or length < 9:
        raise ValueError("truncated frame")
    kind, task_id, header_len = struct.unpack_from("<BII", body)
    if 9 + header_len > length:
        raise ValueError("header longer than its frame")
    header = json.loads(body[9 : 9 + header_len].decode("utf-8"))
    blobs, offset = [], 9 + header_len
    for n in header.get("blobs", []):
        if offset + n > length:
            raise ValueError("blob lengths do not match the frame")
        blobs.append(body[offset : offset + n])
        offset += n
    if offset != length:
        raise ValueError("bytes left over after the blobs")
    return kind, task_id, header, blobs


def _revive(value, blobs):
    if isinstance(value, list):
        return [_revive(v, blobs) for v in value]
    if isinstance(value, dict):
        marker = value.get("$offload")
        if marker == "blob":
            return blobs[value["index"]]
        if marker == "object":
            return {k: _revive(v, blobs) for k, v in value["value"].items()}
        return {k: _revive(v, blobs) for k, v in value.items()}
    return value


def _pack(value, blobs):
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None  # as JSON.stringify does
    if isinstance(value, (bytes, bytearray, memoryview)):
        blobs.append(bytes(value))
        return {"$offload": "blob", "index": len(blobs) - 1, "type": "Buffer"}
    if isinstance(value, dict):
        packed = {str(k): _pack(v, blobs) for k, v in value.items()}
        return {"$offload": "object", "value": packed} if "$offload" in packed else packed
    if isinstance(value, (list, tuple)):
        return [_pack(v, blobs) for v in value]
    return value


def _frame(kind, task_id, field, value, extra=None, none_too=False):
    blobs = []
    header = dict(extra or {})
    if value is not None or none_too:  # a handler's None is JS null, not a missing value
        header[field] = _pack(value, blobs)
    header["blobs"] = [len(b) for b in blobs]
    # Unserialisable values raise here, and the caller turns that into an error reply.
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    length = 9 + len(head) + sum(len(b) for b in blobs)
    return b"".join([_PREFIX.pack(length, kind, task_id, len(head)), head, *blobs])


def _describe(exc):
    props = {}
    for key, value in vars(exc).items():
        if key not in ("code",) and not key.startswith("_"):
            props[key] = value
    described = {
        "name": type(exc).__name__,
        "message": str(exc),
        "stack": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        "props": props,
    }
    code = getattr(exc, "code", None)
    if isinstance(code, (str, int)):
        described["code"] = code
    return described


def _error_frame(task_id, exc):
    try:
        return _frame(ERROR, task_id, "error", _describe(exc))
    except (TypeError, ValueError):
        # Its properties cannot be serialised: send the essentials.
        plain = {"name": type(exc).__name__, "message": str(exc), "props": {}}
        return _frame(ERROR, task_id, "error", plain)


def serve(handlers):
    """Serves tasks from the pool that started this process, until it closes the requests.

    ``handlers`` is one function or a dict of named ones (``"default"`` serves calls without a
    name). A handler is called as ``handler(payload, ctx)``.
    """
    try:
        os.fstat(REQUESTS)
        os.fstat(REPLIES)
    except OSError:
        raise RuntimeError(
            "offload_worker: this process was not started by an offload ProcessPool "
            "(descriptors 3 and 4 are not its pipes)"
        ) from None
    # Children this worker starts must not hold the pipes (the pool would miss our exit).
    os.set_inheritable(REQUESTS, False)
    os.set_inheritable(REPLIES, False)
    requests = os.fdopen(REQUESTS, "rb", buffering=1 << 16)
    write_lock = threading.Lock()
    inbox = queue.Queue()
    contexts = {}

    def send(data):
        view = memoryview(data)
        with write_lock:
            while view:
                view = view[os.write(REPLIES, view) :]

    def reader():
        try:
            while True:
                frame = _read_frame(requests)
                if frame is None:
                    break
                kind, task_id, header, blobs = frame
                if kind == RUN:
                    ctx = Context(header.get("name"))
                    contexts[task_id] = ctx
                    inbox.put((task_id, ctx, header, blobs))
                elif kind == CANCEL:
                    ctx = contexts.get(task_id)
                    if ctx is not None:
                        ctx._cancelled.set()
        except BaseException as exc:  # noqa: BLE001 - any failure here leaves the stream unusable
            # A corrupt stream cannot be resynchronised: report and leave, so the pool
            # replaces this worker instead of waiting on it.
            print(f"offload_worker: {exc!r}", file=sys.stderr, flush=True)
            os._exit(70)
        finally:
            inbox.put(None)

    threading.Thread(target=reader, name="offload-requests", daemon=True).start()
    send(_frame(READY, 0, "value", None, {"protocol": 1, "pid": os.getpid()}))
    while True:
        item = inbox.get()
        if item is None:
            break
        task_id, ctx, header, blobs = item
        try:
            name = ctx.name
            if callable(handlers):
                handler = handlers if name is None else None
            else:
                handler = handlers.get("default" if name is None else name)
            if handler is None:
                err = LookupError(f"offload_worker: no task named {json.dumps(name)}")
                err.code = "ERR_OFFLOAD_UNKNOWN_TASK"
                raise err
            result = handler(_revive(header.get("payload"), blobs), ctx)
            reply = _frame(RESULT, task_id, "value", result, none_too=True)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller
            reply = _error_frame(task_id, exc)
        try:
            send(reply)
        finally:
            contexts.pop(task_id, None)
    os.close(REPLIES)
