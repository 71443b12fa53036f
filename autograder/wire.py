"""Plain values across the sandbox pipe: length-prefixed frames of JSON plus raw bytes.

This file is also bind-mounted into the sandbox beside child.py, so it imports only
the standard library and numpy. Every name it calls is bound when the module is
imported, so a submission that patches `json.dumps` or `np.frombuffer` afterwards
does not break the channel.

A frame is `>II` (header length, body length), a UTF-8 JSON header, then the body:
the raw buffers of the arrays and numpy scalars the header refers to, back to back.
Values are encoded as tagged JSON lists:

    ["n"]  None            ["b", true]   bool          ["i", 3]   int (int64)
    ["f", "0x1.8p+1"]  float, as float.hex() so it crosses bit-exactly
    ["s", "text"]  str     ["l", [...]]  list          ["t", [...]]  tuple
    ["a", "<f8", [2, 3], k]  ndarray whose bytes are buffer k
    ["g", "<f8", k]  numpy scalar whose bytes are buffer k
    ["o", "function"]  a value that cannot cross, by its type name
"""

import json
import os
import select
import struct
from dataclasses import dataclass

import numpy as np

MAX_FRAME_BYTES = 64 * 2**20
MAX_STR_CHARS = 10_000
MAX_ARRAY_ELEMENTS = 1_000_000
MAX_ARRAY_DIMS = 4
MAX_ITEMS = 100
MAX_DEPTH = 3
MAX_NAME_CHARS = 200
ALLOWED_DTYPES = frozenset(
    ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f4", "<f8"]
)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Taken now, before any student code runs in the same interpreter.
_encode_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_decode_json = json.JSONDecoder().decode
_pack_prefix = struct.Struct(">II").pack
_unpack_prefix = struct.Struct(">II").unpack
_os_read, _os_write, _select = os.read, os.write, select.select
_ndarray, _dtype = np.ndarray, np.dtype
_SCALAR_TYPES = frozenset(
    [np.bool_, np.int8, np.int16, np.int32, np.int64]
    + [np.uint8, np.uint16, np.uint32, np.uint64, np.float32, np.float64]
    + [np.longlong, np.ulonglong]
)
_frombuffer, _ascontiguousarray = np.frombuffer, np.ascontiguousarray
_bool_dtype, _uint8_dtype = np.dtype(bool), np.dtype(np.uint8)
_float_hex, _float_fromhex = float.hex, float.fromhex


class WireError(ValueError):
    """A frame or value broke the protocol's rules (size, type, shape, format)."""


@dataclass(frozen=True)
class Opaque:
    """A value that could not cross the boundary, known only by its type name."""

    type_name: str


class _Encoder:
    """Turns one value into a tagged tree plus buffers, within a byte budget."""

    def __init__(self, strict):
        self.strict = strict
        self.buffers = []
        self.budget = MAX_FRAME_BYTES - 2**20

    def opaque(self, value, why):
        if self.strict:
            raise WireError(f"{type(value).__name__} cannot cross the sandbox: {why}")
        return ["o", str(type(value).__name__)[:MAX_NAME_CHARS]]

    def add_buffer(self, data):
        self.budget -= len(data)
        self.buffers.append(data)
        return len(self.buffers) - 1

    def value(self, value, depth):
        kind = type(value)
        if value is None:
            return ["n"]
        if kind is bool:
            return ["b", value]
        if kind is int:
            if _INT64_MIN <= value <= _INT64_MAX:
                return ["i", value]
            return self.opaque(value, "the int is outside int64")
        if kind is float:
            return ["f", _float_hex(value)]
        if kind is str:
            if len(value) <= MAX_STR_CHARS:
                self.budget -= 4 * len(value)
                return ["s", value]
            return self.opaque(value, f"the str is longer than {MAX_STR_CHARS}")
        if kind is _ndarray:
            return self.array(value)
        if kind in _SCALAR_TYPES:
            return ["g", value.dtype.str, self.add_buffer(value.tobytes())]
        if kind is list or kind is tuple:
            return self.sequence(value, depth)
        return self.opaque(value, "only None, bool, int, float, str, arrays, lists")

    def array(self, value):
        dtype = value.dtype.newbyteorder("<") if value.dtype.byteorder == ">" else None
        if dtype is not None:
            value = value.astype(dtype)
        if value.dtype.str not in ALLOWED_DTYPES:
            return self.opaque(value, f"dtype {value.dtype} is not allowed")
        if value.ndim > MAX_ARRAY_DIMS or value.size > MAX_ARRAY_ELEMENTS:
            return self.opaque(value, "the array is too large")
        if value.nbytes > self.budget:
            return self.opaque(value, "the reply is too large")
        data = _ascontiguousarray(value).tobytes()
        return ["a", value.dtype.str, list(value.shape), self.add_buffer(data)]

    def sequence(self, value, depth):
        if depth >= MAX_DEPTH or len(value) > MAX_ITEMS:
            return self.opaque(value, f"at most {MAX_ITEMS} items, {MAX_DEPTH} deep")
        items = [self.value(item, depth + 1) for item in value]
        return ["l" if type(value) is list else "t", items]


def encode(value, *, strict=False):
    """Return (tree, buffers) for `value`; parts that cannot cross become Opaque.

    With strict=True a part that cannot cross raises WireError instead.
    """
    encoder = _Encoder(strict)
    try:
        tree = encoder.value(value, 0)
    except WireError:
        raise
    except Exception as error:
        # A hostile __len__ or dtype property must not break the runner.
        if strict:
            raise WireError(f"value cannot be encoded: {error!r}") from None
        tree = ["o", "unencodable"]
    return tree, encoder.buffers


def _check(condition, what):
    if not condition:
        raise WireError(what)


def _checked_dtype(code):
    _check(type(code) is str and code in ALLOWED_DTYPES, f"dtype {code!r} not allowed")
    return _dtype(code)


class _Decoder:
    """Rebuilds a value from a tree and its buffers, trusting nothing in either."""

    def __init__(self, buffers):
        self.buffers = buffers
        self.used = set()

    def buffer(self, index):
        _check(type(index) is int and 0 <= index < len(self.buffers), "bad buffer")
        _check(index not in self.used, "buffer used twice")
        self.used.add(index)
        return self.buffers[index]

    def value(self, tree, depth):
        _check(type(tree) is list and len(tree) >= 1, "a value must be a tagged list")
        tag, args = tree[0], tree[1:]
        if tag == "n" and not args:
            return None
        _check(len(args) >= 1, f"tag {tag!r} without arguments")
        item = args[0]
        if tag == "b" and len(args) == 1 and type(item) is bool:
            return item
        if tag == "i" and len(args) == 1 and type(item) is int:
            _check(_INT64_MIN <= item <= _INT64_MAX, "int outside int64")
            return item
        if tag == "f" and len(args) == 1 and type(item) is str and len(item) < 40:
            return _float_fromhex(item)
        if tag == "s" and len(args) == 1 and type(item) is str:
            _check(len(item) <= MAX_STR_CHARS, "str too long")
            return item
        if tag == "o" and len(args) == 1 and type(item) is str:
            return Opaque(item[:MAX_NAME_CHARS])
        if tag == "a" and len(args) == 3:
            return self.array(*args)
        if tag == "g" and len(args) == 2:
            return self.scalar(*args)
        if tag in ("l", "t") and len(args) == 1 and type(item) is list:
            _check(depth < MAX_DEPTH and len(item) <= MAX_ITEMS, "sequence too big")
            items = [self.value(part, depth + 1) for part in item]
            return items if tag == "l" else tuple(items)
        raise WireError(f"malformed value with tag {str(tag)[:20]!r}")

    def array(self, code, shape, index):
        dtype = _checked_dtype(code)
        _check(type(shape) is list and len(shape) <= MAX_ARRAY_DIMS, "bad shape")
        size = 1
        for extent in shape:
            _check(
                type(extent) is int and 0 <= extent <= MAX_ARRAY_ELEMENTS, "bad shape"
            )
            size *= extent
        _check(size <= MAX_ARRAY_ELEMENTS, "array too large")
        data = self.buffer(index)
        _check(len(data) == size * dtype.itemsize, "array bytes do not match shape")
        if dtype == _bool_dtype:
            # Bytes other than 0 and 1 are not real booleans; normalise them.
            return (_frombuffer(data, _uint8_dtype) != 0).reshape(shape)
        return _frombuffer(data, dtype).reshape(shape).copy()

    def scalar(self, code, index):
        dtype = _checked_dtype(code)
        data = self.buffer(index)
        _check(len(data) == dtype.itemsize, "scalar bytes do not match dtype")
        if dtype == _bool_dtype:
            return np.bool_(data != b"\x00")
        return _frombuffer(data, dtype)[0]


def decode(tree, buffers):
    """Rebuild the value of `tree`; raises WireError on anything out of the rules."""
    try:
        return _Decoder(buffers).value(tree, 0)
    except (WireError, RecursionError):
        raise
    except (TypeError, ValueError, OverflowError) as error:
        raise WireError(f"malformed value: {error}") from None


def pack(header, buffers=()):
    """One frame holding the JSON-able `header` dict and the raw `buffers`."""
    head = _encode_json(dict(header, buffers=[len(data) for data in buffers]))
    head = head.encode("utf-8")
    body = b"".join(buffers)
    if 8 + len(head) + len(body) > MAX_FRAME_BYTES:
        raise WireError(f"frame of {len(head) + len(body):,} bytes is too large")
    return _pack_prefix(len(head), len(body)) + head + body


def write_frame(fd, frame, wait=None):
    """Write all of `frame` to `fd`; `wait(fd)` blocks until it is writable."""
    view = memoryview(frame)
    while view:
        if wait is not None:
            wait(fd)
        written = _os_write(fd, view[: 2**16])
        view = view[written:]


def read_exact(fd, count, wait=None):
    """Read exactly `count` bytes; EOFError if the other side closed first."""
    parts = []
    while count:
        if wait is not None:
            wait(fd)
        part = _os_read(fd, min(count, 2**20))
        if not part:
            raise EOFError("the other side of the sandbox pipe closed")
        parts.append(part)
        count -= len(part)
    return b"".join(parts)


def read_frame(fd, wait=None):
    """Read one frame: (header dict, list of buffers). WireError if malformed."""
    head_len, body_len = _unpack_prefix(read_exact(fd, 8, wait))
    if head_len + body_len > MAX_FRAME_BYTES:
        raise WireError(f"frame of {head_len + body_len:,} bytes is too large")
    try:
        header = _decode_json(read_exact(fd, head_len, wait).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise WireError(f"frame header is not JSON: {str(error)[:100]}") from None
    lengths = header.get("buffers") if type(header) is dict else None
    if type(lengths) is not list or not all(type(n) is int and n >= 0 for n in lengths):
        raise WireError("frame header has no valid buffer list")
    if sum(lengths) != body_len:
        raise WireError("frame buffer lengths do not add up to its body")
    body = read_exact(fd, body_len, wait)
    buffers, start = [], 0
    for length in lengths:
        buffers.append(body[start : start + length])
        start += length
    return header, buffers
