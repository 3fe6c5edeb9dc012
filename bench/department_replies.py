"""The department head on real posts, against the unit the government's reply names.

    python bench/department_replies.py [--model DIR]
    python bench/department_replies.py --sample 40 --seed 11   # labels to read by hand

../shared/data/messages_with_replies.csv holds 2,816 posts with the reply each received.
A reply closes by signing with the unit that answered (a bureau's name and a date), saying
where the matter went (转某局核实办理) or whom to ask (请向交警大队咨询; the project's own
examples). A post's label here is the one department of the 30 whose name, or a short form of it
(``UNITS``: 住建局, 人社局, 交警, 派出所, 镇政府, ...), stands in the last ``TAIL`` characters of
its reply; posts whose reply names none or several there are left out. No label is a
dispatcher's: they are weak labels, read by hand on a sample (``department_reply_checks.csv``:
message ids and verdicts, no text), and the figures say how often they were right.

Street offices and township governments (``TERRITORIAL``) answer for their area whatever
the matter: a reply from 街道 says which level answered, not which department the matter
is. Figures are given with and without those labels.

Printed: how many posts are labelled and by which unit; the head's top-1 and top-3
agreement; its ``auto`` band's size and agreement; agreement at confidence thresholds; the
commonest disagreements; the hand check's share of plausible labels. One JSON object.
"""
import argparse
import json
import random
import re
from collections import Counter

import numpy as np

from _shared import hand_labels, predicted, read_shared
from triage import load_model

TAIL = 80  # characters at the end of a reply: its signature, or where the matter was passed
# Each department of triage/resources/departments.txt and the names a reply gives it
# (facts of Chinese administration: the traffic police, 交警, are part of public security).
UNITS = {
    "住房和城乡建设局": "住房和城乡建设局|住建局|住房城乡建设局|房产局|住房保障|住房和城乡建设委员会|住建委",
    "自然资源和规划局": "自然资源和规划局|自然资源局|自然资源分局|国土资源局|国土资源分局|国土局|国土分局|规划局|规划分局",
    "生态环境局": "生态环境局|环保局|环境保护局|生态环境分局",
    "交通运输局": "交通运输局|交通局|公路局|运管处|交通运输委员会",
    "公安局": "公安局|公安分局|派出所|交警|交通警察|公安机关",
    "教育局": "教育局|教育委员会|教体局|文教卫局|教育和体育局",
    "文化和旅游局": "文化和旅游局|文旅局|文化旅游局|旅游局|文广新局",
    "人力资源和社会保障局": "人力资源和社会保障局|人社局|人力资源局|社保局|社保中心|劳动监察|人才与人力资源局",
    "医疗保障局": "医疗保障局|医保局|医保中心",
    "卫生健康委员会": "卫生健康委员会|卫健委|卫生局|卫计委|卫生和计划生育委员会|卫健局",
    "市场监督管理局": "市场监督管理局|市场监管局|工商局|质监局|食品药品监督管理局|食药监局",
    "商务局": "商务局|商务和粮食局|商务粮食局",
    "城市管理和综合执法局": "城市管理和综合执法局|城管局|城市管理局|城市管理和行政执法局|综合执法局|行政执法局",
    "水务局": "水务局|水利局",
    "农业农村局": "农业农村局|农业局|畜牧水产",
    "林业局": "林业局",
    "民政局": "民政局",
    "司法局": "司法局",
    "应急管理局": "应急管理局|安监局|安全生产监督管理局|消防支队|消防大队",
    "发展和改革委员会": "发展和改革委员会|发改委|发改局|物价局",
    "财政局": "财政局",
    "税务局": "税务局|税务分局|地税局|国税局",
    "通信管理局": "通信管理局|移动公司|移动通信公司|电信公司|联通公司",
    "纪委监委": "纪委|监委|纪律检查委员会|监察委员会",
    "共青团委员会": "团委|共青团",
    "街道办事处": "街道办事处|街道办|街道",
    "乡镇人民政府": "镇人民政府|乡人民政府|镇政府|乡政府",
    "供电公司": "供电公司|电力公司|供电局",
    "供水公司": "供水公司|自来水公司",
    "燃气公司": "燃气公司|燃气集团|天然气公司",
}
NAMES = {department: re.compile(pattern) for department, pattern in UNITS.items()}
TERRITORIAL = {"街道办事处", "乡镇人民政府"}
THRESHOLDS = (0.5, 0.9, 0.95, 0.99, 0.999, 0.9999)


def closing(reply: str) -> str:
    """The last ``TAIL`` characters of ``reply``: where its unit is looked for."""
    return reply.strip()[-TAIL:]


def named_unit(reply: str) -> str | None:
    """The one department named in ``reply``'s ``closing``, or None."""
    tail = closing(reply)
    named = [department for department, pattern in NAMES.items() if pattern.search(tail)]
    return named[0] if len(named) == 1 else None


def agreement(found: list[dict], labels: list[str]) -> dict:
    """Top-1 and top-3 agreement of ``found`` (department answers) with ``labels``, the
    ``auto`` band's share and agreement, and agreement at or above each threshold."""
    top1 = np.array([entry["label"] == label for entry, label in zip(found, labels)])
    top3 = np.array([label in [choice["label"] for choice in entry["top"]] for entry, label in zip(found, labels)])
    auto = np.array([entry["band"] == "auto" for entry in found])
    confidence = np.array([entry["confidence"] for entry in found])
    return {"n": len(labels), "top1": round(float(top1.mean()), 4), "top3": round(float(top3.mean()), 4),
            "auto": int(auto.sum()), "auto_agreement": round(float(top1[auto].mean()), 4) if auto.any() else None,
            "at_confidence": {str(threshold): [int((confidence >= threshold).sum()),
                                               round(float(top1[confidence >= threshold].mean()), 4)]
                              for threshold in THRESHOLDS if (confidence >= threshold).any()}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="model folder (default: the bundled default model)")
    parser.add_argument("--sample", type=int, help="print this many labelled posts at random, to read by hand")
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args()
    rows = read_shared("messages_with_replies.csv")
    labelled = [(row, unit) for row in rows if (unit := named_unit(row["reply"]))]
    if options.sample:
        for row, unit in random.Random(options.seed).sample(labelled, options.sample):
            print(f"{row['id']}\t{unit}\t{row['subject'][:40]}\t{closing(row['reply'])}".replace("\n", " "))
        return
    model = load_model(options.model)
    results = predicted(model, [row["subject"] + "。" + row["body"] for row, _ in labelled])
    kept = [(result["department"], unit) for result, (_, unit) in zip(results, labelled) if result["status"] == "ok"]
    thematic = [(found, unit) for found, unit in kept if unit not in TERRITORIAL]
    disagreements = Counter(f"{unit} -> {found['label']}" for found, unit in thematic if found["label"] != unit)
    checks = hand_labels("department_reply_checks.csv")
    print(json.dumps({
        "benchmark": "department_replies", "model_version": model.version_, "posts": len(rows),
        "labelled": len(labelled), "unreadable": len(labelled) - len(kept),
        "labels": dict(Counter(unit for _, unit in labelled).most_common()),
        "hand_check": {"read": len(checks), "plausible": sum(row["plausible"] == "1" for row in checks)},
        "all_labels": agreement(*map(list, zip(*kept))),
        "without_territorial": agreement(*map(list, zip(*thematic))),
        "commonest_disagreements_without_territorial": dict(disagreements.most_common(12)),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
