"""What the models and the safety rules read of a hotline transcript: the caller's turns.

A transcript with speaker labels (话务员: ... 市民: ...) carries the operator's script: the
greeting (您好，12345政务服务便民热线，请问有什么可以帮您), questions, read-backs and the
closing (感谢您的来电). None of it is the caller's matter, and read as evidence it was a
great deal of it: with the greeting before each of the project's 67 department cases, the
department head's top-1 fell from 0.896 to 0.567 and the closing made 43 of them 表扬
(docs/BENCHMARKS.md, session 28). An operator's safety advice (闻到燃气味请开窗) would fire a
rule. The whole transcript is still what is stored and shown.

Only labelled turns are dropped: an operator's turn runs from its label to the next label,
or to its closing bracket where the label opened one, or to the end. Text before the first
label and every other speaker's turn stay; the other speakers' labels themselves go (市民 is
no evidence either). A text without an operator label is returned as it is, and so is one
that would keep fewer than ``MIN_KEPT`` Chinese characters: better the whole transcript than
nothing to read.
"""
from __future__ import annotations

import re

OPERATOR_LABELS = ("话务员", "接线员", "坐席", "座席", "客服", "接警员")
# A company's customer service is quoted in complaints (打了运营商电话，客服：说不归他们管): 客服
# labels a turn only in a transcript with another speaker's label too.
QUOTED_LABELS = ("客服",)
CALLER_LABELS = ("市民", "来电人", "来电者", "来电群众", "群众", "客户", "用户", "诉求人", "反映人")
MIN_KEPT = 4
# A label opens a turn: at the start, after white space or punctuation, or just inside an
# opening bracket; full-width or ASCII colon (normalise makes them ASCII).
_LABEL = re.compile(r"(?:^|(?<=[\s，。！？；,.!?;]))(?P<bracket>[（(]\s*)?(?P<who>"
                    + "|".join(sorted(OPERATOR_LABELS + CALLER_LABELS, key=len, reverse=True))
                    + r")\s*[:：]")
_OPERATOR = re.compile("|".join(OPERATOR_LABELS))
_CLOSING = re.compile(r"[）)]")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def caller_turns(text: str) -> str:
    """``text`` without the operator's labelled turns and without speaker labels."""
    if (":" not in text and "：" not in text) or not _OPERATOR.search(text):  # most texts: under a microsecond
        return text
    labels = list(_LABEL.finditer(text))
    if len(labels) < 2:
        labels = [label for label in labels if label["who"] not in QUOTED_LABELS]
    if not any(label["who"] in OPERATOR_LABELS for label in labels):
        return text
    kept, position = [], 0
    for number, label in enumerate(labels):
        if label.start() < position:  # inside an operator's bracket already dropped
            continue
        kept.append(text[position:label.start()])
        following = labels[number + 1].start() if number + 1 < len(labels) else len(text)
        if label["who"] not in OPERATOR_LABELS:
            position = label.end()  # the speaker's words stay, the label goes
            continue
        closing = _CLOSING.search(text, label.end(), following) if label["bracket"] else None
        position = closing.end() if closing else following
    kept.append(text[position:])
    read = "".join(kept)
    return read if len(_CHINESE.findall(read)) >= MIN_KEPT else text
