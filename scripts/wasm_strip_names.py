#!/usr/bin/env python3
"""Drops the custom sections that no runtime reads from a wasm module, in place.

usage: wasm_strip_names.py MODULE.wasm      (run by `make build-worker`)

- "name" only maps function indexes to names for stack traces; it is about a fifth of the
  Worker's gzipped module.
- "producers" (the compiler's version) and "target_features" (the features it was built with)
  are notes for tools.

wasm-opt would drop them (`--strip-debug --strip-producers --strip-target-features`), but is not
practical on this machine (../shared/BUILD_NOTES.md). Every other section is copied byte for
byte. Python standard library only.
"""
import sys
from pathlib import Path


DROPPED = (b"name", b"producers", b"target_features")


def leb128(data: bytes, i: int):
    """The unsigned LEB128 at `i`, and the index after it."""
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def strip(data: bytes) -> bytes:
    if data[:4] != b"\0asm":
        raise ValueError("not a wasm module")
    out = bytearray(data[:8])
    i = 8
    while i < len(data):
        start = i
        section = data[i]
        size, body = leb128(data, i + 1)
        i = body + size
        if i > len(data):
            raise ValueError("truncated section")
        if section == 0:
            n, name = leb128(data, body)
            if data[name:name + n] in DROPPED:
                continue
        out += data[start:i]
    return bytes(out)


def main():
    path = Path(sys.argv[1])
    data = path.read_bytes()
    out = strip(data)
    path.write_bytes(out)
    print(f"{path}: {len(data)} -> {len(out)} bytes (name, producers and target_features sections dropped)")


if __name__ == "__main__":
    main()
