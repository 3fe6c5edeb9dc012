"""The output phase of a batch run: the part file's rows with their columns across the
whole file (hot-issue groups, repeats), counted for the summary and encoded for the
output file on the workers, then written in input order by the parent.

The parent reads the part file in blocks of lines without decoding them (a hot-issue
group's first row, which names the group, is the exception: ``HotGroups.label``) and
writes the encoded pieces; decoding, the columns, counting and encoding (``finish_block``,
a pure function of its arguments like ``rows.triage_chunk``) run on the local engine's
workers, or in the parent itself under the Dask engine, whose workers would receive the
lines through the cluster's scheduler.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, NamedTuple

import orjson

from .repeats import repeat_columns
from .report import Summary
from .writers import Layout


class Block(NamedTuple):
    """Consecutive rows of the part file and what they need from the whole file."""
    lines: list[bytes]                  # JSON lines, one a row
    hot: dict[int, tuple[str, int]]     # index in ``lines`` -> (group name, group size)
    repeats: dict[int, bytes] | None    # row number -> repeat columns (JSON) of a judged row; None: no caller column


def blocks(labelled: Iterable[tuple[list[bytes], dict]], judged: Iterator[tuple[int, bytes]] | None) -> Iterator[Block]:
    """``HotGroups.label``'s blocks with the repeat columns of their judged rows, taken from
    ``judged`` (``repeats.judge_rows``: row numbers in order) as the blocks are handed on."""
    done = 0
    waiting = next(judged, None) if judged is not None else None
    for lines, hot in labelled:
        mine = None
        if judged is not None:
            mine = {}
            while waiting is not None and waiting[0] <= done + len(lines):
                mine[waiting[0]] = waiting[1]
                waiting = next(judged, None)
        yield Block(lines, hot, mine)
        done += len(lines)


def finish_block(model: Any, block: Block, layout: Layout, settings: Mapping[str, Any]) -> tuple[int, bytes | list, Summary]:
    """``(rows, the output's piece, their summary)`` of one block. An engine calls it as
    ``partial(finish_block, layout=..., settings=...)(model, block)``; the model
    is not needed."""
    rows = [orjson.loads(line) for line in block.lines]
    for index, (name, size) in block.hot.items():
        rows[index].update(hot_group=name, hot_group_size=size)
    if block.repeats is not None:
        for row, columns in zip(rows, repeat_columns(rows, block.repeats, settings)):
            row.update(columns)
    summary = Summary()
    for row in rows:
        summary.add(row)
    return len(rows), layout.encode(rows), summary
