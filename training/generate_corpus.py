"""Generate the seed corpus deterministically from the project's parts.

    python training/generate_corpus.py --out training/seed_corpus.csv [--per-situation 90] [--seed 7]

Each row renders one situation (situations.py) in one of three registers: a spoken
hotline transcript (fillers, self-corrections, the operator's questions), an online
message (subject + body), or a formal petition letter. About 10 % of rows are turned into
traditional script and 10 % into full-width characters; in 15 % the caller gives a name and
a phone or ID number and in 25 % states the request first (我要举报), as real input arrives.
"""
from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import opencc

from situations import SITUATIONS, Responder

PLACES = ["幸福里小区", "阳光花园", "东城区建设路", "城南新村", "滨江苑", "人民路和解放路交叉口", "红星村",
          "桃源镇", "柳湾村三组", "开发区工业园", "市二中附近", "和平街道", "金色家园3号楼", "老城区菜市场旁边",
          "翠湖小区", "西关街", "高新区创业大道", "青石镇中心街", "五里堡社区", "火车站南广场"]
TIMES = ["最近一个月", "这几天", "从上周开始", "今天早上", "昨天晚上", "已经半年了", "这两年", "从去年年底开始",
         "刚才", "每天"]
FEELINGS = ["大家意见都很大", "实在是受不了了", "心里特别着急", "周围邻居都在抱怨", "给生活带来很大影响",
            "不知道该找谁", "之前反映过也没有结果", ""]
ASKS = {
    "投诉": ["希望有关部门尽快处理", "请相关部门管一管", "请尽快给个说法", "要求严肃处理"],
    "举报": ["请有关部门调查核实", "希望依法查处", "请尽快来查一下"],
    "求助": ["请马上派人来看看", "请帮帮我们", "希望尽快帮忙解决", "麻烦赶紧派人过来"],
    "咨询": ["麻烦告诉我一下", "想问清楚再去办", "请给个答复"],
    "建议": ["希望能采纳", "供领导参考", "希望认真考虑一下"],
    "表扬": ["特此表扬", "希望给予表彰", "真心感谢"],
}
# Closings any request may end with. Used for a third of the rows so that the request
# type is learned from what is asked, not from how the caller signs off.
NEUTRAL_ASKS = ["请相关部门尽快处理", "麻烦你们看一下", "请给予答复", "谢谢", "希望能得到回复", "请转给相关部门",
                "麻烦帮忙落实一下"]
OPENERS_HOTLINE = ["喂，你好，", "喂喂，那个，", "你好，我想反映个事，", "嗯，你好，就是说，", "您好，"]
OPERATOR = ["（话务员：请问具体在什么位置？）", "（话务员：您说的情况持续多久了？）", "（话务员：好的，您继续说。）", ""]
CORRECTIONS = ["不对，我说错了，", "呃，怎么说呢，", "就是那个，", ""]
SALUTATIONS = ["尊敬的领导：", "领导您好：", "市长您好，", "尊敬的市委书记："]
# Sentences any complaint may carry, whatever it is about. Spread over every category, the
# everyday words real messages are full of (现在, 一直, 多次, 年, 月, 手续, 答复) stop
# looking like evidence for whichever category happened to use them.
CONTEXT = ["这个问题已经存在很长时间了", "我们多次向有关部门反映，一直没有得到解决", "现在大家都很无奈",
           "{n}年以来情况越来越严重", "前后打了{n}次电话，每次都说会处理", "到现在已经{n}个月了",
           "相关部门回复说正在协调，之后就没有下文", "我们也理解政府工作忙，但这件事确实影响很大",
           "具体情况可以到现场了解一下", "我手里有照片和相关材料可以提供", "希望领导能真正重视起来",
           "之前的答复和实际情况不一样", "不知道这个归哪个部门管，只好打热线", "我家里还有老人和小孩",
           "去问了好几个地方都说不归他们管", "网上留言了也没有人回复", "按照规定应该怎么办请给个明确的说法",
           "手续都是齐全的，就是办不下来", "大家商量之后决定联名反映", "希望尽快给我们一个满意的答复",
           "一个多月前就反映过一次", "去年也出现过同样的问题", "真的希望这次能得到解决",
           "请相关部门核实情况", "说实话我们也不想一直打扰"]
# Callers say who they are (session 28): a name, a mobile, an ID number, in every category
# alike. Masked before training (``triage.privacy``), the numbers themselves teach nothing;
# the words around them (身份证, 手机, 联系方式) spread over every matter stop sending a caller
# who gives an ID number to 公安局, where 身份证 stood only in ID-card matters.
IDENTITY_SHARE = 0.15
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
IDENTITIES = {
    "hotline": ["我姓{surname}，手机号是{phone}，", "我的身份证是{id}，", "我姓{surname}，电话{phone}，身份证{id}，"],
    "web": ["（留言人{surname}女士，联系方式{phone}）", "（{surname}先生，手机{phone}）", "（实名反映，身份证{id}）"],
    "letter": ["反映人：{surname}某某，身份证号码：{id}，联系电话：{phone}。", "联系人：{surname}先生，电话：{phone}。"],
}
# Callers say something of themselves first (session 35): their age, work, family or health,
# in every category alike. Told before the matter, such words had sent a case to the unit of
# the caller's circumstances (an old caller to 民政局, a teacher to 教育局): the held-out cases
# after a caller's circumstances (training/heldout.py, CONTEXT_FRAMES) were the weakest framing.
CIRCUMSTANCE_SHARE = 0.15
CIRCUMSTANCES = ["我今年六十多岁了，老伴走得早", "我是退休工人，身体不太好", "我在附近的工厂上班，天天倒夜班",
                 "我是个体户，在菜市场卖菜", "我家孩子刚上初中，学习很紧张", "我们家是低保户，日子过得紧",
                 "我是残疾人，出门要坐轮椅", "我在这边租房子住，房东人在外地", "我是送外卖的，每天在外面跑",
                 "我爱人在医院住院，我两头跑", "我是一名退伍军人", "我是学校的老师，平时工作忙",
                 "我家老人八十多了，需要人照顾", "我刚从外省调过来工作，对这边不熟", "我是开出租车的，一天要跑十几个小时",
                 "我是在校大学生", "我们是刚搬来的新住户", "我怀孕七个月了，行动不方便"]
# Callers say what they want (session 28): "我要举报" before the matter. The corpus had never
# written 举报 or 求助 and hardly 咨询, so a caller's own word for the request counted for nothing.
INTENT_SHARE = 0.25
INTENTS = {
    "投诉": ["我要投诉，", "投诉一个事情，", "我想投诉一下，"],
    "举报": ["我要举报，", "实名举报：", "我举报一下，"],
    "求助": ["求助！", "我想求助一下，", "请帮帮我们，"],
    "咨询": ["我咨询个事，", "想问个问题，", "咨询一下，"],
    "建议": ["我提个建议，", "有个建议，"],
    "表扬": ["我要表扬，", "我想表扬一下，"],
}
LETTER_OPEN = ["我是{place}的居民，现就有关问题反映如下：", "本人居住在{place}，特向领导反映以下情况：",
               "关于{place}存在的问题，特写此信反映："]
LETTER_CLOSE = ["恳请领导重视，督促有关部门依法处理。", "以上情况属实，盼复。", "望领导在百忙之中予以关注。"]
_TO_TRADITIONAL = opencc.OpenCC("s2t")


def identity(rng: random.Random, register: str) -> str:
    """How a caller of ``register`` says who they are, with made-up numbers in real formats."""
    born = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return rng.choice(IDENTITIES[register]).format(
        surname=rng.choice(SURNAMES), phone=f"1{rng.choice('356789')}{rng.randrange(10**9):09d}",
        id=f"{rng.randint(110000, 659999)}{born}{rng.randrange(1000):03d}{rng.choice('0123456789X')}")


def render(rng: random.Random, situation: tuple, number: int, callers: random.Random,
           intents: random.Random, selves: random.Random) -> dict:
    """One row of ``situation``; ``callers`` draws who gives their name and numbers,
    ``intents`` who states the request first and ``selves`` who tells their circumstances,
    apart from ``rng`` so that every other choice is the same with or without them."""
    category, subcategory, department, urgency, request_type, problems = situation
    # who takes over an emergency (the responder head); a Responder is that alone, not a department
    responder = department if urgency == "特急" else None
    department = None if isinstance(department, Responder) else department
    wording = rng.randrange(len(problems))
    problem = problems[wording]
    place, time, feeling = rng.choice(PLACES), rng.choice(TIMES), rng.choice(FEELINGS)
    # a situation without a request type (it teaches urgency only) closes neutrally, states none
    ask = rng.choice(NEUTRAL_ASKS) if rng.random() < 0.35 or request_type is None else rng.choice(ASKS[request_type])
    context = "".join(rng.choice(CONTEXT).format(n=rng.randint(2, 12)) + "，"
                      for _ in range(rng.choice([0, 1, 1, 2])))
    register = rng.choices(["hotline", "web", "letter"], weights=[5, 4, 2])[0]
    feeling_part = f"{feeling}，" if feeling else ""
    who = identity(callers, register) if callers.random() < IDENTITY_SHARE else ""
    self_told = selves.choice(CIRCUMSTANCES) + "，" if selves.random() < CIRCUMSTANCE_SHARE else ""
    if intents.random() < INTENT_SHARE and request_type is not None:
        problem = intents.choice(INTENTS[request_type]) + problem
    if register == "hotline":
        text = (f"{rng.choice(OPENERS_HOTLINE)}我是{place}的，{who}{self_told}{rng.choice(CORRECTIONS)}{time}{problem}，"
                f"{rng.choice(OPERATOR)}{context}{feeling_part}{ask}。")
    elif register == "web":
        subject = problem.split("，")[0][:18]
        text = f"{subject} {rng.choice(SALUTATIONS)}{self_told}{place}{time}{problem}。{context}{feeling_part}{ask}。{who}"
    else:
        text = (rng.choice(LETTER_OPEN).format(place=place) + f"{self_told}{time}，{problem}。{context}{feeling_part}"
                f"{ask}。{who}{rng.choice(LETTER_CLOSE)}")
    script = rng.random()
    if script < 0.1:
        text = _TO_TRADITIONAL.convert(text)
    elif script < 0.2:
        text = text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})
    return {"text": text, "category": category, "subcategory": subcategory, "department": department,
            "urgency": urgency, "request_type": request_type, "responder": responder, "register": register,
            # Rows rendering one wording are variants of each other: training calibrates on
            # folds that keep each group apart (TriageModel.fit, groups).
            "group": f"s{number}.w{wording}"}


def generate(per_situation: int, seed: int) -> list[dict]:
    rng, callers, intents = random.Random(seed), random.Random(f"{seed}/callers"), random.Random(f"{seed}/intents")
    selves = random.Random(f"{seed}/selves")
    return [render(rng, situation, number, callers, intents, selves) for number, situation in enumerate(SITUATIONS)
            for _ in range(per_situation)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).with_name("seed_corpus.csv")))
    parser.add_argument("--per-situation", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    rows = generate(arguments.per_situation, arguments.seed)
    with open(arguments.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {arguments.out}")


if __name__ == "__main__":
    main()
