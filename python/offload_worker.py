"""The worker side of an offload ProcessPool, for Python (docs/protocol.md).

    from offload_worker import serve

    def resize(payload, ctx):
        return {"thumb": make_thumbnail(payload["image"])}  # bytes travel as raw frames

    serve({"resize": resize})

Requests arrive on descriptor 3 and replies leave on descriptor 4, so print() goes to the
worker's log and never into the protocol. Binary values arrive as ``bytes``; ``bytes``,
``bytearray`` and ``memoryview`` results go back as Buffers. Results are JSON data otherwise
(see docs/protocol.md, Values): what JavaScript would not get back as it was (a set, an int
beyond 2**53 - 1, a dict key that is not a str or an int, any other object) makes the task
fail with a TypeError naming where it is, e.g. ``result.items[3]``. Handlers run one at a time
on the main thread; a reader thread takes requests and marks ``ctx.cancelled`` when the pool
cancels a task. Standard library only, Python 3.8+.
"""

import json
import os
import queue
import re
import struct
import sys
import threading
import traceback

__all__ = ["serve", "Context"]

REQUESTS, REPLIES = 3, 4
RUN, CANCEL, READY, RESULT, ERROR = 1, 2, 3, 4, 5
_PREFIX = struct.Struct("<IBII")  # length, kind, id, header length
MAX_FRAME = 1 << 30  # a longer frame means a corrupt stream (docs/protocol.md)
MAX_SAFE_INTEGER = (1 << 53) - 1  # the largest int a JS number holds exactly
# Bytes per element of each blob type; a blob of another length, or another type, is corrupt.
_ELEMENT_SIZE = {
    "Buffer": 1, "ArrayBuffer": 1, "DataView": 1, "Int8Array": 1, "Uint8Array": 1,
    "Uint8ClampedArray": 1, "Int16Array": 2, "Uint16Array": 2, "Float16Array": 2,
    "Int32Array": 4, "Uint32Array": 4, "Float32Array": 4, "Float64Array": 8,
    "BigInt64Array": 8, "BigUint64Array": 8,
}
_CAN_CARRY = (
    "JSON data (None, a bool, a str, an int within 2**53 - 1, a float, a list, a tuple or a "
    "dict with str or int keys), bytes, bytearray or memoryview"
)


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


def _blob(marker, blobs):
    index, kind = marker.get("index"), marker.get("type")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(blobs):
        raise ValueError("offload protocol: a blob marker points past the blobs")
    size = _ELEMENT_SIZE.get(kind) if isinstance(kind, str) else None
    if size is None:
        raise ValueError(f"offload protocol: unknown blob type {json.dumps(kind)}")
    blob = blobs[index]
    if len(blob) % size:
        raise ValueError(
            f"offload protocol: a {kind} blob of {len(blob)} bytes is not a whole number "
            f"of {size}-byte elements"
        )
    return blob


def _revive(value, blobs):
    if isinstance(value, list):
        return [_revive(v, blobs) for v in value]
    if isinstance(value, dict):
        if "$offload" in value:  # senders escape their own objects with this key: a marker
            marker = value["$offload"]
            if marker == "blob":
                return _blob(value, blobs)
            if marker != "object":
                raise ValueError(f"offload protocol: unknown marker {json.dumps(marker)}")
            inner = value.get("value")
            if not isinstance(inner, dict):
                raise ValueError("offload protocol: an escaped object without an object inside")
            return {k: _revive(v, blobs) for k, v in inner.items()}
        return {k: _revive(v, blobs) for k, v in value.items()}
    return value


def _child(path, key):
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if re.match(r"^[A-Za-z_$][\w$]*$", key) else f"{path}[{json.dumps(key)}]"


def _refuse(path, what):
    # Worded as the JS side words it (ERR_INVALID_ARG_TYPE), so both helpers agree.
    noun = "property" if "." in path else "argument"
    err = TypeError(f'The "{path}" {noun} must be {_CAN_CARRY}. Received {what}')
    err.code = "ERR_INVALID_ARG_TYPE"
    return err


def _pack(value, blobs, path="result", ancestors=None):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise _refuse(path, f"an int of {value.bit_length()} bits")
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None  # as JSON.stringify does (docs/protocol.md)
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        blobs.append(bytes(value))
        return {"$offload": "blob", "index": len(blobs) - 1, "type": "Buffer"}
    if not isinstance(value, (dict, list, tuple)):
        raise _refuse(path, f"an instance of {type(value).__name__}")
    ancestors = set() if ancestors is None else ancestors
    if id(value) in ancestors:
        err = ValueError(f"The property '{path}' is circular: it contains an object that contains it")
        err.code = "ERR_INVALID_ARG_VALUE"
        raise err
    ancestors.add(id(value))
    if isinstance(value, dict):
        packed = {}
        for k, v in value.items():
            # JS keys are strings, and obj[1] is obj["1"]: an int key is carried as its digits,
            # unless the dict also has those digits as a key.
            if isinstance(k, bool) or not isinstance(k, (str, int)) or str(k) in packed:
                bad_type = isinstance(k, bool) or not isinstance(k, (str, int))
                why = f"of type {type(k).__name__}" if bad_type else "a duplicate once keys are strings"
                err = TypeError(f'The keys of "{path}" must be str or int. Received {k!r}, {why}')
                err.code = "ERR_INVALID_ARG_TYPE"
                raise err
            packed[str(k)] = _pack(v, blobs, _child(path, k), ancestors)
        if "$offload" in packed:
            packed = {"$offload": "object", "value": packed}
    else:
        packed = [_pack(v, blobs, _child(path, i), ancestors) for i, v in enumerate(value)]
    ancestors.discard(id(value))
    return packed


def _frame(kind, task_id, field, value, extra=None, none_too=False):
    blobs = []
    header = dict(extra or {})
    if value is not None or none_too:  # a handler's None is JS null, not a missing value
        header[field] = _pack(value, blobs, "result" if field == "value" else field)
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
    described = _describe(exc)
    try:
        return _frame(ERROR, task_id, "error", described)
    except Exception:  # noqa: BLE001 - some property cannot be encoded
        pass
    # Leave out, one by one, the properties that cannot be encoded; keep the rest.
    props = {}
    for key, value in described["props"].items():
        try:
            _pack(value, [])
            props[key] = value
        except Exception:  # noqa: BLE001
            pass
    described["props"] = props
    return _frame(ERROR, task_id, "error", described)


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
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller
            reply = _error_frame(task_id, exc)
        else:
            try:
                reply = _frame(RESULT, task_id, "value", result, none_too=True)
            except Exception as exc:  # noqa: BLE001
                exc.args = (f"offload_worker: the result could not be sent: {exc}",)
                reply = _error_frame(task_id, exc)
        try:
            send(reply)
        finally:
            contexts.pop(task_id, None)
    os.close(REPLIES)
