#!/usr/bin/env python3
"""Allocated bytes and blocks of a dhat profile, grouped by where in the compaction they happen.

usage: dhat_sites.py DHAT_JSON

DHAT_JSON is a profile in dh_view's format, e.g. from
`OTLP2R2_DHAT_FILE=dhat.json cargo bench --bench compact --features dhat-heap -- --dhat --dhat-dir DIR`.
Each allocation site goes to the first group (in the order below) whose marker appears in any
frame of its stack, so a site under both the merge's gather and the writer counts as the gather's
(`write::gather` since 2026-12-01, `compact::merge::gather` in older builds).
Prints each group's share of the bytes, its bytes and its blocks, largest first.
"""
import collections
import json
import sys

# (group, markers): the first group with a marker in the site's stack takes the site.
GROUPS = [
    ("gather (the merge's output arrays)", ["otlp2r2::write::gather", "otlp2r2::compact::merge::gather"]),
    ("our Parquet writer", ["otlp2r2::write"]),
    ("reader: dictionary strings expanded", ["extend_from_dictionary"]),
    ("reader: footers and metadata", ["Footer", "metadata"]),
    ("reader: pages and their decoders", ["Decoder::new", "read_new_page", "decode_page"]),
    ("reader: other parquet / arrow buffers", ["parquet::", "arrow_"]),
    ("store reads and writes", ["Store"]),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    profile = json.load(open(sys.argv[1]))
    frames = profile["ftbl"]
    size, blocks = collections.Counter(), collections.Counter()
    for site in profile["pps"]:
        stack = " ".join(frames[i] for i in site["fs"])
        group = next((g for g, marks in GROUPS if any(m in stack for m in marks)), "other")
        size[group] += site["tb"]
        blocks[group] += site["tbk"]
    total = sum(size.values())
    print(f"{total:,} B in {sum(blocks.values()):,} blocks")
    for group, b in size.most_common():
        print(f"{100 * b / total:5.1f} %  {b:>13,} B  {blocks[group]:>9,} blocks  {group}")


if __name__ == "__main__":
    main()
