"""What the models and the safety rules read of a hotline transcript: the caller's turns.

A transcript with speaker labels (话务员: ... 市民: ...) carries the operator's script: the
greeting (您好，12345政务服务便民热线，请问有什么可以帮您), questions, read-backs and the
closing (感谢您的来电). None of it is the caller's matter, and read as evidence it was a
great deal of it: with the greeting before each of the project's 67 department cases, the
department head's top-1 fell from 0.896 to 0.567 and the closing made 43 of them 表扬
(docs/BENCHMARKS.md, session 28). An operator's safety advice (闻到燃气味请开窗) would fire a
rule. The whole transcript is still what is stored and shown.

Labels are read as people write them (话务员：) and as call-centre speech recognition exports
them, with times and brackets ([00:00:05] 市民：, [坐席 00:00:01], 说话人1 00:00:01 on a line of
its own: ``_labels``); read as text, those had left the department top-1 at 0.751 and changed
94 of 201 request types. Only labelled turns are dropped: an operator's turn runs from its
label to the next label, or to its closing bracket where the label opened one, or to the
end. Text before the first label and every other speaker's turn stay; the other speakers'
labels themselves go (市民 is no evidence either). A text without an operator label is
returned as it is, and so is one that would keep fewer than ``MIN_KEPT`` Chinese
characters: better the whole transcript than nothing to read.

A transcript without labels (speech recognition often gives none) still opens and closes
with the operator's script: ``without_script`` drops the run of script clauses at its start
(您好，12345热线，工号3025为您服务，请问有什么可以帮您) and at its end (您反映的情况已经记录，我们会
尽快转交相关部门处理，请保持电话畅通，感谢您的来电，再见), with the caller's short answers inside
those runs (嗯, 好的, 没有了). Only whole clauses in the operator's formulae go, only at the
two ends, and only a run with more than a greeting or fillers in it: the caller's own words
are never read as script, and a caller who mentions the hotline (我打了三次热线都没人管)
keeps every word. With such a script around each of the 67 department cases, department
top-1 had fallen from 0.896 to 0.607 and 107 of 201 had become 表扬; every pair of different
cases looked alike enough to be one caller's repeat or one hot issue (docs/BENCHMARKS.md,
session 29).

Speech recognition may also hand a call over with no mark at all, or with one only where a
speaker paused long (您好12345请问有什么可以帮您。): a clause of formulae and fillers one
after another counts as script, and where the first or last clause is too long to be one,
the formulae are read one after another from the start, and back from the end, with no
clause to match whole. Needing more evidence then: at least ``_LEAST_UNMARKED`` characters of
formulae (12345热线一直打不通 is the caller's), and at the end the words of
``_UNMARKED_WORDS`` formulae near it (希望转交相关部门处理 is a caller's request as often as an
operator's promise). The fillers between the caller and the script stay. Without marks, the
script around each of the 67 department cases had made 111 of 201 表扬 and the department
top-1 0.766 (0.8955 bare). The times speech recognition stamps on each stretch of speech
([00:00:04]) are read like fillers in a run: before the greeting, they had hidden it.

Speech recognition often labels speakers only by number or letter (说话人1：, A：, 角色2：):
the operator is then the speaker whose turns hold the most clauses of the operator's
formulae, and those turns go whole, as a named operator's do (a tie names no one, and only
the labels go). Read with the labels, such transcripts kept the department top-1 at 0.721
and changed 116 of 201 request types.

Inside the call, the operator's questions (请问具体在什么位置？您贵姓？这个情况持续多久了？) and
holds (您稍等，我查一下) go wherever they stand, as whole short clauses only: a caller's own
question names what it asks about (请问社保卡在哪个地方办理？) and stays, and so do the
caller's answers (就在我们家楼下). Read, those questions made 110 of 201 cases' request
types something else (mostly 咨询). Without marks there is no short clause to match whole:
there, between the script's two runs, a question goes where it addresses the caller (您说的
这个地方在哪个路段, 您是当事人本人吗), with the whole questions asked beside it, between the
caller's short answers (之前有没有向别的部门反映过); read, such questions had changed 116 and
155 of 201 request types.
"""
from __future__ import annotations

import re

from .compiled import optional

_scan = optional("_scan")  # where it was not built, an expression finds the operator's possible questions

OPERATOR_LABELS = ("话务员", "接线员", "坐席", "座席", "客服", "接警员")
# A company's customer service is quoted in complaints (打了运营商电话，客服：说不归他们管): 客服
# labels a turn only in a transcript with another speaker's label too.
QUOTED_LABELS = ("客服",)
CALLER_LABELS = ("市民", "来电人", "来电者", "来电群众", "群众", "客户", "用户", "诉求人", "反映人")
MIN_KEPT = 4
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"  # 00:00:05, 0:05, 00:00:05.230
_NOTE = r"[（(\[【][^()（）\[\]【】\n]{0,16}[)）\]】]"  # after a label: (00:01), (工号3025)


def _labels(who: str) -> re.Pattern:
    """Speakers' labels ``who`` as transcripts write them, each opening a turn: at the start,
    after white space, punctuation or a closing bracket; with a colon (full-width or ASCII:
    normalise makes them ASCII) or, just inside an opening bracket, the turn in brackets
    (（话务员：请问…）); and as call-centre speech recognition exports them, with a time
    before the label ([00:00:05] 市民：) or a time or an agent's number after it (坐席(00:01)：,
    坐席(工号3025)：), the label and its time in brackets ([坐席 00:00:01], colon or not),
    or the label and its time on a line of their own (说话人1 00:00:01, no colon)."""
    return re.compile(r"(?:^|(?<=[\s，。！？；,.!?;\]】]))(?:[\[【(（]?" + _TIME + r"[\]】)）]?\s*)?"
                      r"(?P<open>[\[【]\s*)?(?P<bracket>[（(]\s*)?(?P<who>" + who + r")"
                      r"\s*(?:" + _NOTE + r"|(?P<time>" + _TIME + r"))?"
                      r"(?(open)\s*[\]】]\s*[:：]?|(?(time)(?:\s*[:：]|(?=\s))|\s*[:：]))")


_LABEL = _labels("|".join(sorted(OPERATOR_LABELS + CALLER_LABELS, key=len, reverse=True)))
_OPERATOR = re.compile("|".join(OPERATOR_LABELS))
# Speakers as speech recognition labels them, by number or letter: who is the operator is
# read from what they say.
_SPEAKER_WORDS = ("说话人", "发言人", "讲话人", "角色", "声道", "Speaker", "speaker", "SPEAKER", "Spk", "spk", "SPK")
_NUMBERED = _labels(r"(?:" + "|".join(_SPEAKER_WORDS) + r")\s*\d{1,2}|[A-D甲乙]")
_LETTERS = frozenset("ABCD甲乙")  # a speaker's label by itself
_ENDS_A_LABEL = (":", "：", "]", "】")  # what follows a label, or its time (00:00:05)
_CLOSING = re.compile(r"[）)]")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


# The operator's script, clause by clause (a clause: text between punctuation, matched whole
# after the fillers it may open with), each with words one of which any clause it matches
# holds: a text with none of them near an end has no script there, and is passed by one
# search (most texts). Opening clauses count only in the run at a text's start.
_SERVING = r"(?:很高兴|非常高兴|竭诚|随时)?(?:为您服务)?"
_OPENING_CLAUSES = (
    (("热线", "12345", "服务中心", "服务台"),
     r"(?:欢迎致电|欢迎拨打|这里是)?(?:[\u4e00-\u9fffA-Za-z\d]{1,3}[市县区])?(?:市长|市民|政务|服务|便民|公共|政府|综合|的)*"
     r"(?:12345(?:市长|市民|政务|服务|便民|公共|政府|综合|的)*(?:热线|服务中心|服务台)?|热线|服务中心|服务台)"
     r"(?:工号\d{1,6}号?)?" + _SERVING),
    (("工号", "号话务员", "号接线员", "号坐席", "号客服", "为您服务"),
     r"(?:我是)?(?:工号\d{1,6}号?(?:话务员|接线员|坐席|客服)?|\d{1,6}号(?:话务员|接线员|坐席|客服))" + _SERVING
     + r"|(?:我是)?(?:\d{1,6}号)?(?:很高兴|非常高兴|竭诚|随时)?为您服务"),
    (("有什么",),
     r"(?:请问)?(?:您)?有什么(?:(?:事情|问题|诉求|需要|情况)(?:要|需要)?(?:反映|咨询)?(?:的)?"
     r"|(?:事情|问题)?(?:可以|能|需要)?(?:我)?(?:帮|为|帮助)(?:到|助)?您(?:的)?)(?:吗)?"),
    (("请讲", "请说", "请您讲"), r"(?:您)?请讲|(?:您)?请说|请您讲"),
    (("请问您",), r"请问您(?:要|需要|想)?(?:反映|咨询|办理)(?:什么|哪方面的|一下)?(?:问题|事情|情况|业务)?"),
)
_ABOUT = r"(?:您的|您说的|您反映的|您刚才说的|这个|您的这个)?(?:问题|情况|诉求|事情|来电)?"  # what the operator did it with
_WE = r"(?:我|我们)?(?:这边)?(?:已经|已|会|将)?(?:尽快|马上|及时|第一时间)?(?:帮您|给您|为您)?"
_CLOSING_CLAUSES = (
    (("记录", "登记", "受理", "记下", "记好"), _ABOUT + _WE + r"(?:详细|都)?(?:记录|登记|受理|记下|记好)(?:下来|好|一下)?了?"),
    (("部门", "单位", "街道", "社区", "乡镇"),
     _ABOUT + _WE + r"(?:把|将)?(?:您的|您反映的)?(?:问题|情况|诉求|工单)?(?:帮您)?"
     r"(?:转交|转给|转办|转到|派发|交办|反馈|转达|派单|交)(?:给|到)?"
     r"(?:相关|有关|承办|责任|所属|属地|辖区)?(?:的)?(?:部门|单位|街道办|街道|社区|乡镇)(?:去)?(?:处理|办理|核实|跟进)?"),
    (("畅通",), r"(?:请|请您)?保持(?:电话|手机|联系方式)(?:的)?畅通"),
    (("耐心",), r"(?:请|请您)?耐心(?:等待|等候)(?:回复|答复|回电|通知|结果)?"),
    (("工作日", "联系", "回复", "回电", "答复"),
     r"(?:后续|稍后|之后|随后)?(?:我们|相关部门)?(?:会在)?(?:(?:\d{1,2}|一|两|三|五|七|十|十五|几)个工作日(?:之内|内)?)?(?:会)?"
     r"(?:有)?(?:相关)?(?:工作人员|部门|单位|专人|承办单位)?(?:会)?"
     r"(?:(?:给您|与您|跟您|和您)(?:联系|回复|回电|答复)|(?:联系|回复|回电|答复)您)"),
    (("还有",),
     r"(?:请问)?(?:您)?还有(?:没有)?(?:什么)?(?:其他|别的|其它)?(?:的)?(?:问题|事情|诉求|需要)(?:需要)?"
     r"(?:帮助|反映|咨询|要反映|要咨询)?(?:的)?(?:吗)?"),
    (("来电", "致电", "您的", "您对"),
     r"(?:感谢|谢谢|非常感谢)(?:您的|您)?(?:对我们(?:工作)?的)?(?:来电|致电|反映|支持|配合|理解)"),
    (("愉快", "健康", "顺利"), r"(?:祝您)?(?:生活愉快|身体健康|工作顺利)(?:再见)?"),
    (("再见", "拜拜"), r"再见|拜拜"),
    (("核实", "确认", "复述"), r"(?:我|我这边)?(?:跟|和|给)您(?:核实|确认|复述)(?:一下)?"),
)

# What the operator asks in the middle of a call: where, since when, who, how to call back,
# whether it was reported before, and a moment's hold. Dropped wherever they stand, as whole
# clauses only: a caller's own question names its object (请问社保卡在哪个地方办理) and stays.
_PLACES = ("位置", "地方", "地址", "路段", "路口", "小区", "社区", "区", "街道", "路", "村", "镇", "楼", "栋", "单元", "门牌号", "门牌")
_PLACE = "(?:" + "|".join(_PLACES) + ")"
_DETAILS = r"(?:姓名|名字|电话|联系电话|联系方式|手机号码|手机号|手机|地址|具体地址|门牌号|身份证号|身份证号码)"
_QUESTION_CLAUSES = (
    r"(?:那)?(?:请问)?(?:您说的|您)?(?:现在|目前)?(?:这个|那个)?(?:地方|位置|地址)?(?:具体|大概|大约)?(?:是|在|住在|位于|住的是)?"
    r"(?:哪个|哪|哪一个|什么)" + _PLACE + r"+(?:哪个" + _PLACE + r"+)*(?:的)?(?:呢|啊)?",
    r"(?:那)?(?:麻烦您|请您|您)?(?:方便)?(?:(?:留|提供|说|告诉我)一下|留一个|留下)(?:您的)?(?:具体)?" + _DETAILS
    + r"(?:和(?:您的)?" + _DETAILS + r")?(?:吗|吧)?",
    r"(?:请问)?(?:您)?(?:贵姓|怎么称呼您|怎么称呼)",
    r"(?:请问)?您的(?:联系)?(?:电话|方式|手机)(?:号码)?(?:是)?多少",
    r"(?:请问)?(?:这个|这种)?(?:情况|问题|事情)?(?:大概|大约)?(?:持续|有)?(?:多久|多长时间)了?",
    r"(?:请问)?(?:您)?(?:这个|这种)?(?:情况|问题|事情)?(?:大概|大约)?(?:是)?(?:从)?什么时候(?:开始|发现)?(?:的)?",
    r"(?:请问)?(?:您)?(?:之前|以前)?(?:有没有)?(?:向|跟|给)?(?:别的|其他|相关)?(?:部门)?(?:反映|投诉|反馈)过(?:吗)?",
    r"(?:请问)?(?:您)?(?:之前|以前)?(?:有没有)?打过(?:我们)?(?:的)?(?:12345|热线|这个电话|电话)+(?:吗)?",
    r"(?:请问)?您是(?:当事人|本人|业主|租户|住户)+吗",
    r"(?:请问)?您(?:是)?(?:就)?住在(?:那|这|那个|这个)?(?:附近|旁边|周边|对面|楼上|楼下)(?:吗)",
    r"(?:请|请您|您)?稍等(?:一下)?|(?:我)?(?:帮您|给您)?(?:查询|查|核实|看)一下",
    # where, asked without a place word (请问具体位置在哪里), whether anyone is hurt, whether the
    # caller's details are to be kept confidential, whether the number is the caller's own,
    # what the caller wants done, whether to call back
    r"(?:那)?(?:请问|您说的|请问您说的)(?:这个|那个)?(?:具体|事发)?(?:位置|地址|地点|地方)(?:具体|大概)?(?:是|在)?"
    r"(?:哪里|哪儿|哪|什么地方|什么位置)(?:呢|啊)?",  # addressed: a caller's 具体位置在哪里 asks about a project
    r"(?:请问)?(?:现场)?(?:有没有|有)(?:人|人员)(?:受伤|伤亡)(?:吗)?",
    r"(?:好的)?(?:请问)?(?:您)?(?:是否|需不需要|要不要)?(?:需要)?(?:对您的|对)?(?:个人)?(?:信息)?(?:进行)?保密(?:吗|处理)?",
    r"(?:请问)?(?:这个|您的)?(?:联系)?(?:电话|号码|手机号|手机)(?:是)?(?:您)?(?:本人|本机)(?:的)?(?:号码)?吗",
    r"(?:请问)?(?:您)?(?:是)?(?:要|想)?(?:投诉|反映|咨询|举报|求助|建议)(?:问题)?还是(?:要|想)?(?:投诉|反映|咨询|举报|求助|建议)(?:问题)?(?:呢)?",
    r"(?:请问)?(?:您)?(?:是否|需不需要|要不要)?(?:需要)?(?:我们)?(?:给您)?(?:回电|回访|回复|电话回访)(?:吗)?",
)


def _alternatives(clauses) -> tuple[re.Pattern, re.Pattern]:
    """The clauses as one pattern, and their words as one."""
    return (re.compile("|".join(pattern for _, pattern in clauses)),
            re.compile("|".join(re.escape(word) for words, _ in clauses for word in words)))


_OPENING, _OPENING_WORDS = _alternatives(_OPENING_CLAUSES)
_CLOSING_SCRIPT, _CLOSING_WORDS = _alternatives(_CLOSING_CLAUSES)
_QUESTION = re.compile("|".join(_QUESTION_CLAUSES))
_SCRIPT = re.compile("|".join([pattern for _, pattern in _OPENING_CLAUSES + _CLOSING_CLAUSES] + list(_QUESTION_CLAUSES)))
_ASKING = re.compile("稍等|留一下|提供一下|留一个|留下")  # besides a question mark after it, what may make a clause one of them
_LEADING_FILLER = re.compile(r"(?:嗯|哦|呃|啊|喂|那|好的|好|对|是的|行|您好|你好)*")
# In a run, but no run by themselves: fillers, greetings, thanks, and the time speech
# recognition stamps on a stretch of speech ([00:00:04], (00:03)).
_WEAK = re.compile(r"[嗯哦呃啊喂那好的对是行没有了]+|喂?(?:您好|你好)|(?:好的)?谢谢(?:您)?|[\[【(（]?" + _TIME + r"[\]】)）]?")
_LONGEST_CLAUSE = 40
_LONGEST_QUESTION = 20  # an operator's question is short; a caller's that long names its matter
_ADDRESSING = re.compile("您(?![好们])")  # the 您 of a question to the caller (not a greeting's)
_LONGEST_ANSWER = 20  # characters between two of the operator's questions without marks: the caller's answer
_LEAST_ASKED = 8  # characters of a formula read as the operator's question beside one that addresses the caller
_BEFORE_ADDRESS = 8  # characters before its 您 a formula addressing the caller may open with (这个联系电话是您)
_NEAR_END = 64  # a run's script words lie this near its end of the text (weak clauses are short)
_LONGEST_RUN = 240  # characters of a text's end read for a closing run
_LEAST_UNMARKED = 8  # characters of formulae a run without marks holds (12345热线 alone, 7, may be the caller's)
_UNMARKED_WORDS = 3  # closing formulae's words near the end of a text without marks before a run is looked for
_MARKS = ",，。!！?？;；、\\s"  # what ends a clause (``_scan._clause_mark`` the same)
_CLAUSE = re.compile(f"([^{_MARKS}]*)[{_MARKS}]*")  # a clause and the punctuation after it
_CLAUSE_MARKS = re.compile(f"[{_MARKS}]+")


def caller_turns(text: str) -> str:
    """``text`` without the operator's labelled turns and without speaker labels, and
    without an unlabelled script at its two ends (``without_script``)."""
    return without_script(_without_operator_turns(text))


def without_script(text: str) -> str:
    """``text`` without the run of operator's script clauses at its start and at its end
    (each run kept when it holds nothing but greetings and fillers), and without the
    operator's questions anywhere in it (``_QUESTION_CLAUSES``); the whole text kept when
    dropping them would leave fewer than ``MIN_KEPT`` Chinese characters."""
    asked = _without_questions(text)
    start = _opening_run(asked) if _OPENING_WORDS.search(asked, 0, _NEAR_END) else 0
    end = len(asked)
    if _CLOSING_WORDS.search(asked, max(0, end - _NEAR_END)):
        end = _closing_run(asked)
    kept = asked[start:end] if start < end else asked
    if "您" in kept:  # between the script's runs: a closing's 给您回电 is one of its formulae
        kept = _without(kept, _addressed_questions(kept))
    if kept is text:
        return text
    return _or_whole(kept, text)


def _without_questions(text: str) -> str:
    """``text`` without the operator's questions (``_QUESTION_CLAUSES``, among the
    ``asked_clauses``) and a hold's 我查一下 after 稍等, each with the punctuation after it."""
    spans, position = [], 0
    for start, end in asked_clauses(text):
        if start < position or not _says(_QUESTION, text, start, end):
            continue
        position = _CLAUSE.match(text, start).end()
        if "稍等" in text[start:end] and position < len(text):  # the hold's 我查一下
            following = _CLAUSE.match(text, position)
            if following[1] and _says(_QUESTION, text, position, following.end(1)):
                position = following.end()
        spans.append((start, position))
    return _without(text, spans)


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without ``spans`` (in order of their starts; where two overlap, both go)."""
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in spans:
        if start > position:
            pieces.append(text[position:start])
        position = max(position, end)
    pieces.append(text[position:])
    return "".join(pieces)


def _addressed_questions(text: str) -> list[tuple[int, int]]:
    """The (start, end) of the operator's questions, by start, inside the clauses of ``text``
    too long to be a formula, as speech recognition without marks hands a call over: each
    formula that addresses the caller (``_QUESTION_CLAUSES`` with 您 in it: 您说的这个地方在哪个
    路段, 麻烦您留一下姓名和电话, 您是当事人本人吗), and the formulae that follow or precede
    one, formula by formula, with at most ``_LONGEST_ANSWER`` characters of the caller's answer
    between them: whole questions of ``_LEAST_ASKED`` characters or more (之前有没有向别的部门
    反映过), or any formula with no answer between (请您稍等我查一下). A caller asks no one 您
    about themselves, and a caller's short question (什么时候能修好) is read."""
    spans = []
    addressing = [match.start() for match in _ADDRESSING.finditer(text)]
    if not addressing:
        return spans
    clauses: dict[tuple[int, int], list[int]] = {}  # (start, end) -> where 您 stands in the clause
    for at in addressing:  # the clause of each: from the mark before it to the mark after it
        before, after = _CLAUSE_MARKS.search(text[at::-1]), _CLAUSE_MARKS.search(text, at)
        start, end = at + 1 - before.start() if before else 0, after.start() if after else len(text)
        if end - start > _LONGEST_CLAUSE:  # too long to be a formula
            clauses.setdefault((start, end), []).append(at)
    for (start, end), ats in clauses.items():
        addressed = {found.span() for at in ats
                     for found in [_addressed(text, max(start, at - _BEFORE_ADDRESS), at, end)] if found}
        if not addressed:
            continue
        formulae = sorted(addressed | {found.span() for found in _QUESTION.finditer(text, start, end) if found[0]})
        kept = [span in addressed for span in formulae]
        for index in range(1, len(formulae)):  # the questions after one that addresses the caller
            kept[index] = kept[index] or kept[index - 1] and _chained(formulae[index], formulae[index - 1])
        for index in range(len(formulae) - 2, -1, -1):  # and before one
            kept[index] = kept[index] or kept[index + 1] and _chained(formulae[index], formulae[index + 1])
        spans += [span for span, keep in zip(formulae, kept) if keep]
    return spans


def _addressed(text: str, first: int, at: int, end: int) -> re.Match | None:
    """The formula from ``first`` to ``at`` or later, the earliest, that holds the 您 at ``at``."""
    for start in range(first, at + 1):
        found = _QUESTION.match(text, start, end)
        if found and found.end() > at:
            return found
    return None


def _chained(formula: tuple[int, int], asked: tuple[int, int]) -> bool:
    """Whether ``formula`` is one of the operator's run of questions beside ``asked``, one
    of them: right beside it, or at most ``_LONGEST_ANSWER`` characters of answer away and a
    whole question itself (``_LEAST_ASKED``)."""
    gap = max(formula[0] - asked[1], asked[0] - formula[1])
    return gap == 0 or 0 < gap <= _LONGEST_ANSWER and formula[1] - formula[0] >= _LEAST_ASKED


def asked_clauses(text: str, longest: int = _LONGEST_QUESTION, compiled: bool = True) -> list[tuple[int, int]]:
    """The (start, end) of each clause of ``text`` (between the marks ``_CLAUSE`` splits at)
    of at most ``longest`` characters that a question mark follows or that asks for a moment
    or for details (``_ASKING``): where an operator's question may stand. Compiled
    (``_scan.asked_clauses``) where it was built; this expression is its definition."""
    if compiled and _scan is not None:
        return _scan.asked_clauses(text, longest)
    return [(clause.start(1), clause.end(1)) for clause in _CLAUSE.finditer(text)
            if 0 < len(clause[1]) <= longest and (text.startswith(("?", "？"), clause.end(1)) or _ASKING.search(clause[1]))]


def _says(formulae: re.Pattern, text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether the clause ``text[start:end]`` is one of ``formulae`` whole, after the
    fillers it may open with (嗯，好的，那)."""
    end = len(text) if end is None else end
    return formulae.fullmatch(text, _LEADING_FILLER.match(text, start, end).end(), end) is not None


def _opening_run(text: str) -> int:
    """Where the run of opening script at the start of ``text`` ends (0: none). Clause by
    clause (``_run``); where the first clause is too long to be one, the text has no marks
    there, as speech recognition may hand it over, and the formulae are read one after
    another from the start (``_tiles``)."""
    run = _run(text, _OPENING)
    if run or not _unmarked(text):
        return run
    said, _, said_chars = _tiles(_OPENING, text, 0, len(text))
    return said if said_chars >= _LEAST_UNMARKED else 0


def _closing_run(text: str) -> int:
    """Where the run of closing script at the end of ``text`` starts (``len(text)``: none).
    Clause by clause, reading the text's last ``_LONGEST_RUN`` characters backwards
    (``_run``); where the last clause is too long to be one, the text has no marks there,
    and the run is the earliest formula from which formulae and fillers reach the end
    (``_unmarked_tail``), looked for only where the words of ``_UNMARKED_WORDS`` formulae
    lie near the end: an operator's closing is a ritual of several (recorded, handed on,
    someone will call, thanks, goodbye), and a text without marks offers no clause to
    match whole."""
    tail = text[-_LONGEST_RUN:]
    backwards = tail[::-1]
    run = _run(backwards, _CLOSING_SCRIPT, reversed_text=True, whole=len(tail) == len(text))
    if (run or not _unmarked(backwards)
            or len(_CLOSING_WORDS.findall(text, max(0, len(text) - _NEAR_END))) < _UNMARKED_WORDS):
        return len(text) - run
    return _unmarked_tail(text, len(text) - len(tail))


def _unmarked(text: str) -> bool:
    """Whether the first clause of ``text`` is too long to be a formula: no mark in its
    first ``_LONGEST_CLAUSE`` + 1 characters."""
    return len(text) > _LONGEST_CLAUSE and not _CLAUSE_MARKS.search(text, 0, _LONGEST_CLAUSE + 1)


def _unmarked_tail(text: str, first: int) -> int:
    """Where, at or after ``first``, the earliest closing formula stands from which closing
    formulae and fillers, with no marks between them, reach the end of ``text``, with at
    least ``_LEAST_UNMARKED`` characters of formulae; ``len(text)`` where none does. Read
    backwards, a position at a time: what reaches the end from each is known when it is
    read. No formula is longer than ``_LONGEST_CLAUSE``, so a stretch that long from which
    nothing reaches the end ends the search."""
    end = len(text)
    said = {end: 0}  # position -> characters of formulae from it to the end, where it reaches it
    found, stuck = end, 0
    for position in range(end - 1, first - 1, -1):
        formula = _CLOSING_SCRIPT.match(text, position)
        if formula and formula.end() > position and formula.end() in said:
            said[position] = said[formula.end()] + formula.end() - position
            if said[position] >= _LEAST_UNMARKED:
                found = position
        else:
            filler = _WEAK.match(text, position)
            if filler and filler.end() > position and filler.end() in said:
                said[position] = said[filler.end()]
        stuck = 0 if position in said else stuck + 1
        if stuck > _LONGEST_CLAUSE:
            break
    return found


def _tiles(script: re.Pattern, text: str, start: int, end: int) -> tuple[int, int, int]:
    """``script`` formulae and fillers one after another from ``start``, with no marks
    between them, each the longest its expression takes, a formula tried first: where the
    last formula ends (``start``: none), where the last piece ends and how many characters
    the formulae hold."""
    position = said = start
    said_chars = 0
    while position < end:
        formula = script.match(text, position, end)
        if formula and formula.end() > position:
            said_chars += formula.end() - position
            position = said = formula.end()
            continue
        filler = _WEAK.match(text, position, end)
        if not filler or filler.end() == position:
            break
        position = filler.end()
    return said, position, said_chars


def _tiled(script: re.Pattern, clause: str) -> bool:
    """Whether ``clause`` is ``script`` formulae and fillers whole, one formula at least
    (您好12345请问有什么可以帮您: speech recognition puts no mark between them)."""
    said, reached, _ = _tiles(script, clause, 0, len(clause))
    return said > 0 and reached == len(clause)


def _run(text: str, script: re.Pattern, reversed_text: bool = False, whole: bool = True) -> int:
    """How many characters at the start of ``text`` are a run of ``script`` clauses, with
    the weak ones (fillers, greetings) among and after them and their punctuation; 0 when
    no clause of the run is of ``script``. ``reversed_text``: ``text`` is read backwards
    (each clause turned round before it is matched), to find the run at a text's end;
    ``whole``: ``text`` is the whole text, not its last part, whose first clause may be cut.
    Clause by clause: most texts stop at their first."""
    strong, length = False, 0
    while length < len(text):
        match = _CLAUSE.match(text, length)
        if match.end(1) - length > _LONGEST_CLAUSE or (match.end() == len(text) and not whole):
            break  # no script clause is so long; a clause cut by the window is no evidence
        clause = match[1][::-1] if reversed_text else match[1]
        if clause and not _WEAK.fullmatch(clause):
            if not _tiled(script, clause):
                break
            strong = True
        length = match.end()
    return length if strong else 0


def _without_operator_turns(text: str) -> str:
    """``text`` without the operator's labelled turns and without speaker labels. Where the
    speakers are labelled only by number or letter, the operator is the one who speaks
    the operator's formulae (``_numbered_operator``)."""
    if ":" not in text and "：" not in text and "]" not in text and "】" not in text:  # _ENDS_A_LABEL: most texts
        return text
    if _OPERATOR.search(text):
        labels = list(_LABEL.finditer(text))
        if len(labels) < 2:
            labels = [label for label in labels if label["who"] not in QUOTED_LABELS]
        operator = {label["who"] for label in labels} & set(OPERATOR_LABELS)
        if not operator:
            return text
    else:
        labels = list(_NUMBERED.finditer(text)) if _numbered_labels(text) else []
        if len({label["who"] for label in labels}) < 2:  # no dialogue
            return text
        operator = _numbered_operator(text, labels)  # none found: the labels alone go
    kept, position = [], 0
    for number, label in enumerate(labels):
        if label.start() < position:  # inside an operator's bracket already dropped
            continue
        kept.append(text[position:label.start()])
        following = _turn_end(text, labels, number)
        if label["who"] not in operator:
            position = label.end()  # the speaker's words stay, the label goes
            continue
        closing = _CLOSING.search(text, label.end(), following) if label["bracket"] else None
        position = closing.end() if closing else following
    kept.append(text[position:])
    read = "".join(kept)
    return _or_whole(read, text)


def _or_whole(read: str, text: str) -> str:
    """``read``, or the whole ``text`` where ``read`` keeps fewer than ``MIN_KEPT`` Chinese
    characters: better the whole transcript than nothing to read."""
    return read if len(_CHINESE.findall(read)) >= MIN_KEPT else text


def _turn_end(text: str, labels: list[re.Match], number: int) -> int:
    """Where the turn that ``labels[number]`` opens ends: at the next label, or the text's end."""
    return labels[number + 1].start() if number + 1 < len(labels) else len(text)


def _numbered_labels(text: str) -> bool:
    """Whether ``text`` may hold a numbered label: a colon or closing bracket after A-D, 甲
    or 乙, or after a digit (说话人1：, or a label's time, 00:00:05) where a speaker's word
    (说话人, 角色) stands too; a space between or not. A third of real posts hold a colon
    (尊敬的领导：, 9:30), and this costs them a few string searches instead of
    ``_NUMBERED``'s scan; the speakers' words are looked for once, after it."""
    after_digit = False
    for colon in _ENDS_A_LABEL:
        at = text.find(colon)
        while at > 0:
            before = text[at - 1] if text[at - 1] != " " else text[:at].rstrip()[-1:]
            if before in _LETTERS:
                return True
            after_digit = after_digit or before.isdigit()
            at = text.find(colon, at + 1)
    return after_digit and any(word in text for word in _SPEAKER_WORDS)


def _numbered_operator(text: str, labels: list[re.Match]) -> set[str]:
    """Of two or more speakers labelled by number or letter, the one whose turns hold the
    most clauses of the operator's formulae (greeting, closing, questions), as a set; empty
    when no one's do, or two speakers' do equally (no guess: then the formulae alone go)."""
    said = dict.fromkeys({label["who"] for label in labels}, 0)
    for number, label in enumerate(labels):
        following = _turn_end(text, labels, number)
        said[label["who"]] += sum(_says(_SCRIPT, clause)
                                  for clause in _CLAUSE_MARKS.split(text[label.end():following]) if clause)
    ranked = sorted(said.values(), reverse=True)
    return {max(said, key=said.get)} if ranked[0] > ranked[1] else set()
