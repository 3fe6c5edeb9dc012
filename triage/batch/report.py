"""The batch summary: counts gathered while the output is written, and a self-contained
HTML report (charts as inline SVG, no scripts, fonts or files from elsewhere).

SVG rather than matplotlib PNGs: the browser draws the Chinese labels with the reader's
own fonts, where matplotlib needs a CJK font installed on the batch machine.
"""
from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field

REVIEW_SHOWN = 100
ERRORS_SHOWN = 50
REPEATERS_SHOWN = 20
REPEATER_ROWS_SHOWN = 10  # row ids listed per repeat caller: kept per caller, not per row


@dataclass
class Summary:
    input: str = ""
    encoding: str = ""
    model_version: str = ""
    rows: int = 0
    errors: int = 0
    unreadable: int = 0
    resumed_from: int = 0
    seconds: float = 0.0
    counts: dict[str, Counter] = field(default_factory=lambda: {name: Counter() for name in CHARTS})
    review: list[dict] = field(default_factory=list)
    error_rows: list[dict] = field(default_factory=list)
    # the callers with the most repeat rows, most first: (caller key, repeat rows, their first
    # ids), set from the judging (``repeats.judge_rows``), not counted row by row
    repeaters: list[tuple[str, int, list[str]]] = field(default_factory=list)
    repeats: int = 0
    hot_groups: list[dict] = field(default_factory=list)  # the biggest, set by the runner
    hot_group_count: int = 0

    def add(self, row: dict) -> None:
        self.rows += 1
        if row["status"] == "error":
            self.errors += 1
            if len(self.error_rows) < ERRORS_SHOWN:
                self.error_rows.append(row)
            return
        if row["status"] == "unreadable":
            self.unreadable += 1
        for name in CHARTS:
            self.counts[name][row.get(name) or "（无）"] += 1
        if row["decision"] == "review" and len(self.review) < REVIEW_SHOWN:
            self.review.append(row)
        if row.get("is_repeat"):
            self.repeats += 1

    def merge(self, later: Summary) -> None:
        """Count ``later``'s rows (those after this summary's, as the workers count them)
        as if ``add`` had been given them here, in order."""
        self.rows += later.rows
        self.errors += later.errors
        self.unreadable += later.unreadable
        self.repeats += later.repeats
        for name in CHARTS:
            self.counts[name].update(later.counts[name])
        self.review.extend(later.review[:REVIEW_SHOWN - len(self.review)])
        self.error_rows.extend(later.error_rows[:ERRORS_SHOWN - len(self.error_rows)])

    def to_dict(self) -> dict:
        return {"input": self.input, "encoding": self.encoding, "model_version": self.model_version,
                "rows": self.rows, "errors": self.errors, "unreadable": self.unreadable, "repeats": self.repeats,
                "hot_groups": self.hot_group_count,
                "resumed_from_row": self.resumed_from, "seconds": round(self.seconds, 2),
                "rows_per_second": round(self.rows / self.seconds, 1) if self.seconds else None,
                **{f"by_{name}": dict(counter.most_common()) for name, counter in self.counts.items()}}


CHARTS = {"category": "类别", "department": "责任单位", "urgency": "紧急程度", "decision": "处理方式"}


def bar_chart(title: str, counts: Counter, limit: int = 15) -> str:
    """A horizontal bar chart as an inline SVG element."""
    items = counts.most_common(limit)
    if not items:
        return ""
    width, label_width, bar_height = 640, 170, 22
    largest = items[0][1]
    height = bar_height * len(items) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(title)}"><text x="0" y="16" font-weight="bold">{html.escape(title)}</text>']
    for index, (label, count) in enumerate(items):
        y = 26 + index * bar_height
        length = max(1, round((width - label_width - 70) * count / largest))
        parts.append(f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{html.escape(str(label))}</text>'
                     f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="{bar_height - 6}" fill="#3b6ea5"/>'
                     f'<text x="{label_width + length + 6}" y="{y + 15}">{count:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(summary: Summary) -> str:
    facts = summary.to_dict()
    charts = "".join(f"<figure>{bar_chart(title, summary.counts[name])}</figure>" for name, title in CHARTS.items())
    review = _table(("行", "编号", "类别", "紧急程度", "原因", "文本"),
                    [(row["row"], row["id"], row["category"], row["urgency"], row["flags"] or row["explanation"],
                      (row["text"] or "")[:80]) for row in summary.review])
    errors = _table(("行", "编号", "错误"), [(row["row"], row["id"], row["error"]) for row in summary.error_rows])
    hot = _table(("首件编号", "件数", "类别", "首件内容"),
                 [(group["id"], group["size"], group["category"], group["text"]) for group in summary.hot_groups])
    repeaters = _table(("来电人（密钥摘要）", "重复件数", "工单编号"),
                       [(caller[:10], count, "、".join(ids)) for caller, count, ids in summary.repeaters])
    rate = f"{facts['rows_per_second']:,}" if facts["rows_per_second"] else "-"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>批量分拨报告 · triage</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}}figure{{display:inline-block;margin:1em}}
svg text{{font-size:13px}}</style></head><body>
<h1>批量分拨报告</h1>
<p>文件 {html.escape(facts['input'])}（编码 {html.escape(facts['encoding'])}）；模型 {html.escape(facts['model_version'])}；
共 {facts['rows']:,} 行，出错 {facts['errors']:,} 行，无法判读 {facts['unreadable']:,} 行，重复件 {facts['repeats']:,} 行；
用时 {facts['seconds']} 秒（{rate} 行/秒）。</p>
<h2>分布</h2>{charts}
<h2>多人反映（共 {summary.hot_group_count} 组，列出最大的 {len(summary.hot_groups)} 组）</h2>{hot or '<p>无</p>'}
<h2>重复信访（前 {REPEATERS_SHOWN} 位来电人）</h2>{repeaters or '<p>无（未给出来电人列，或没有重复件）</p>'}
<h2>需人工审核（前 {REVIEW_SHOWN} 件）</h2>{review or '<p>无</p>'}
<h2>出错的行（前 {ERRORS_SHOWN} 行）</h2>{errors or '<p>无</p>'}
</body></html>
"""


def _table(headings: tuple[str, ...], rows: list[tuple]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(name)}</th>" for name in headings)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell if cell is not None else ''))}</td>" for cell in row)
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
