"""What is read of a hotline transcript: the caller's turns (triage/dialogue.py)."""
import pytest

from triage.dialogue import caller_turns
from triage.normalise import normalise


@pytest.mark.parametrize("transcript, read", [
    ("话务员：您好，12345政务服务便民热线，请问有什么可以帮您？市民：楼下饭店油烟直排", "楼下饭店油烟直排"),
    ("楼下饭店油烟直排。话务员：好的，已经记录，感谢您的来电。", "楼下饭店油烟直排。"),
    ("坐席：您好，请讲。来电人：工地凌晨还在打桩。坐席：还有其他问题吗？来电人：没有了。",
     "工地凌晨还在打桩。没有了。"),
    ("夜间施工打桩声音特别大，（话务员：请问具体在什么位置？）大家意见都很大", "夜间施工打桩声音特别大,大家意见都很大"),
    ("客服：闻到燃气味请立即开窗通风。市民：我家的水管漏了", "我家的水管漏了"),
    # no operator label: as it is; a colon that labels no one is no turn
    ("尊敬的领导：我是幸福里小区的居民，楼道灯坏了", "尊敬的领导:我是幸福里小区的居民,楼道灯坏了"),
    ("市民：楼道灯坏了一个月", "市民:楼道灯坏了一个月"),
    # a company's customer service quoted in a complaint is no operator's turn
    ("我打了运营商的电话，客服：说不归他们管，让我去找通信管理局", "我打了运营商的电话,客服:说不归他们管,让我去找通信管理局"),
    # all of it the operator's by its labels: better the whole text than nothing
    ("话务员：您好请讲，我家楼下油烟很大", "话务员:您好请讲,我家楼下油烟很大"),
])
def test_only_the_callers_turns_are_read(transcript, read):
    assert caller_turns(normalise(transcript)) == read


def test_an_operators_safety_advice_fires_no_rule_and_the_transcript_is_kept_whole(small_model):
    text = "客服：闻到燃气味请立即开窗通风，不要开关电器。市民：我家厨房的水龙头一直滴水"
    result = small_model.predict([text])[0]
    assert result["urgency"]["rules"] == [] and result["urgency"]["label"] != "特急"
    assert result["text"] == normalise(text)
    plain = small_model.predict(["我家厨房的水龙头一直滴水"])[0]
    assert result["category"] == plain["category"] and result["department"] == plain["department"]


CASE = "小区门口的路灯坏了一个多月，晚上黑漆漆的"


@pytest.mark.parametrize("opening", [
    "您好，欢迎致电A市12345政务服务便民热线，我是8号话务员，请问有什么可以帮您？",
    "喂您好，政务服务便民热线，工号3025很高兴为您服务。嗯，",
    "您好，这里是12345，请问您有什么诉求？",
    "喂，您好，12345热线，请说。",
    "您好，很高兴为您服务，请问您要反映什么问题？",
])
def test_an_unlabelled_opening_script_is_not_read(opening):
    assert caller_turns(normalise(opening + CASE)) == normalise(CASE)


@pytest.mark.parametrize("closing", [
    "好的，这个情况我已经帮您记录下来了，会尽快帮您转到相关部门。",
    "那我这边给您登记一下，后续会有工作人员跟您联系。",
    "您的来电我们已经记录，会在五个工作日内给您回复，请耐心等待。",
    "请问还有其他需要帮助的吗？没有了，谢谢。好的，感谢您的来电，再见。",
    "好的，您反映的问题我们会转交给属地街道处理，请您保持电话畅通。",
    "已经帮您登记了。您还有什么其他问题吗？没有了。好的，再见。",
    "好的，已经给您登记了，请耐心等待回复，再见。",
])
def test_an_unlabelled_closing_script_is_not_read(closing):
    assert caller_turns(normalise(CASE + "。" + closing)) == normalise(CASE)


@pytest.mark.parametrize("text", [
    "我打了三次12345热线，都没人管，小区门口的路灯坏了",  # the caller's own mention of the hotline
    "小区门口的路灯坏了一个多月，希望转交相关部门处理",  # the caller's request, not the operator's promise
    "小区门口的路灯坏了一个多月，请尽快回复，谢谢",
    "您好，请讲。",  # nothing but script: better the whole text than nothing
    "喂，你好，小区门口的路灯坏了",  # a greeting alone is no script run
])
def test_the_callers_own_words_are_kept(text):
    assert caller_turns(normalise(text)) == normalise(text)


def test_the_script_is_read_only_at_the_two_ends():
    middle = "小区门口的路灯坏了，感谢您的来电，晚上黑漆漆的"
    assert caller_turns(normalise(middle)) == normalise(middle)


def test_an_unlabelled_script_leaves_the_answer_as_for_the_bare_case(small_model):
    plain, scripted = small_model.predict([
        CASE, "您好，12345热线，请问有什么可以帮您？" + CASE + "。好的，已经给您登记了，感谢您的来电，再见。"])
    assert scripted["category"] == plain["category"] and scripted["department"] == plain["department"]
    assert scripted["request_type"] == plain["request_type"]
    assert scripted["text"].startswith("您好,12345热线")  # shown and kept whole


@pytest.mark.parametrize("asked, read", [
    ("请问具体在什么位置？就在我们家楼下。请问您贵姓？姓李。您的联系电话是多少？〔电话〕。", "就在我们家楼下。姓李。〔电话〕。"),
    ("这个情况持续多久了？有一个多月了。您之前反映过吗？没有。", "有一个多月了。没有。"),
    ("请问是哪个区哪个街道的？城东区新华街道。好的，您稍等，我帮您查询一下。城东区新华街道", "城东区新华街道。好的,城东区新华街道"),
    ("麻烦您留一下姓名和电话。我姓周。您是业主本人吗？是的。", "我姓周。是的。"),
    ("请问具体位置在哪里？菜市场东门。现场有没有人受伤？没有。您是否需要对您的信息保密？需要。", "菜市场东门。没有。需要。"),
    ("这个联系电话是您本人的吗？对。您是要投诉还是咨询？投诉。之前有没有打过我们热线？打过一次。需要给您回电吗？要的。",
     "对。投诉。打过一次。要的。"),
    ("您现在住的是哪个社区？东风社区。那您大概什么时候发现的？前天。", "东风社区。前天。"),
    ("您留一个联系电话吧。〔电话〕。您是住在那附近吗？对。", "〔电话〕。对。"),
])
def test_the_operators_questions_inside_a_call_are_not_read(asked, read):
    assert caller_turns(normalise(CASE + "。" + asked)) == normalise(CASE) + "。" + read


@pytest.mark.parametrize("text", [
    "请问社保卡在哪个地方办理？",  # a caller's question names what it asks about
    "我想问一下孩子应该去哪个学校报名？",
    "这个事情到底归哪个部门管？找了好几次了",
    "想咨询一下，办理居住证需要去哪？联系电话是多少？",  # the office's number, not the caller's
    "说好的安置房项目，怎么没动静了，具体位置在哪里？",  # unaddressed: where the project is
    "物业让我留下联系方式，之后就没人管了",  # a caller's 留下 in a clause of its own words
    "留下电话的那个师傅什么时候能来？",
])
def test_a_callers_own_questions_are_read(text):
    assert caller_turns(normalise(text)) == normalise(text)


@pytest.mark.parametrize("transcript, read", [
    ("A：您好，12345热线，请讲。B：我们小区电梯坏了三天了。A：好的，已经给您登记了。", "我们小区电梯坏了三天了。"),
    # the operator second, and what the operator says outside the formulae goes too
    ("说话人1：喂？说话人2：您好，政务热线，有什么可以帮您？说话人1：我们小区电梯坏了三天了。"
     "说话人2：这个我帮您反映上去，您留意短信。", "喂?我们小区电梯坏了三天了。"),
    # no one speaks the formulae: the labels go, every word stays
    ("说话人1：我们小区电梯坏了。说话人2：哪个小区的电梯坏了", "我们小区电梯坏了。哪个小区的电梯坏了"),
    # a letter that labels no one
    ("A市B区的路灯坏了：一个多月没人修", "A市B区的路灯坏了:一个多月没人修"),
])
def test_speakers_labelled_by_number_are_told_apart_by_what_they_say(transcript, read):
    assert caller_turns(normalise(transcript)) == read


# Speech recognition may hand a call over without any mark, or with one only where a speaker
# paused long: the formulae then follow one another with no clause to match whole.
UNMARKED_CASE = "对面楼的工地每天晚上十一点以后还在打桩吵得根本睡不着"


@pytest.mark.parametrize("transcript", [
    "喂您好这里是市民服务热线请问您有什么需要反映的" + UNMARKED_CASE,
    "您好12345热线很高兴为您服务" + UNMARKED_CASE + "好的您的问题已经帮您登记了我们会转给相关部门处理请保持电话畅通谢谢您的来电",
    UNMARKED_CASE + "嗯好的已经给您记录下来了后续会有工作人员给您回电感谢您的来电再见",
    # a mark only where a speaker paused: two formulae in one clause
    "您好12345请问有什么可以帮您。" + UNMARKED_CASE + "。好的已经给您记录下来了会尽快转交属地街道处理感谢您的来电。",
])
def test_a_script_without_marks_is_not_read(transcript):
    read = caller_turns(normalise(transcript)).strip("。")
    # 对面 whole: the fillers between the caller and the script (嗯好的) may be anyone's and stay
    assert read.startswith(UNMARKED_CASE) and read[len(UNMARKED_CASE):] in ("", "好的", "嗯好的")


@pytest.mark.parametrize("text", [
    "12345热线一直打不通" + UNMARKED_CASE,  # the hotline named, too little of the formulae to be the greeting
    UNMARKED_CASE + "希望转交相关部门处理",  # one formula at the end: a caller's request as likely as a closing
    UNMARKED_CASE + "请相关部门尽快联系我谢谢",
])
def test_a_callers_words_without_marks_are_kept(text):
    assert caller_turns(normalise(text)) == normalise(text)


@pytest.mark.parametrize("asked, read", [
    ("您说的这个地方大概在哪个路段在人民路路口那里大概从什么时候开始的上个礼拜就这样了", "在人民路路口那里上个礼拜就这样了"),
    ("好的麻烦您留一下姓名和电话我姓周您是当事人本人吗是的之前有没有向别的部门反映过还没有", "好的我姓周是的还没有"),
    ("那请问您住在哪个社区东风社区好请您稍等我查一下", "东风社区好"),
    # the questions before the one that addresses the caller go too
    ("这种情况有多久了快一个月了之前有没有打过我们热线打过一次需要给您回电吗要的", "快一个月了打过一次要的"),
])
def test_the_operators_questions_without_marks_are_not_read(asked, read):
    assert caller_turns(normalise(UNMARKED_CASE + asked)) == UNMARKED_CASE + read


@pytest.mark.parametrize("text", [
    # no question addresses the caller: a caller's own short questions stay
    UNMARKED_CASE + "请问什么时候能修好之前有没有人管过",
    UNMARKED_CASE + "麻烦您帮我们反映一下什么时候能解决",
    # far from the operator's question, the caller's words stay
    UNMARKED_CASE + "我不知道之前有没有向别的部门反映过我家里人说已经找过小区物业好几次了物业一直说这个不归他们管请问您贵姓",
])
def test_a_callers_questions_without_marks_are_read(text):
    read = caller_turns(normalise(text))
    assert read.startswith(UNMARKED_CASE) and ("之前有没有" in read or "什么时候" in read)


@pytest.mark.parametrize("transcript", [
    # times before the labels, an agent's number after one
    "【00:00:02】坐席(工号1024)：您好，请讲。【00:00:05】来电人：楼道灯坏了一个月。【00:00:13】坐席(工号1024)：好的，已经记录。",
    "[00:00:01] 坐席：您好，请讲。\n[00:00:05] 市民：楼道灯坏了一个月。\n[00:00:09] 坐席：好的，已经记录。",
    "坐席(00:01)：您好，请讲。市民(00:05)：楼道灯坏了一个月。",
    # the label and its time in brackets, with a colon or without
    "[坐席 00:00:01] 您好，请讲。\n[市民 00:00:03] 楼道灯坏了一个月。\n[坐席 00:00:11] 好的，已经记录。",
    "[话务员]：您好，请讲。[市民]：楼道灯坏了一个月。",
    # the label and its time on a line of their own, the speakers numbered
    "说话人1 00:00:01\n您好，12345热线，请讲。\n说话人2 00:00:04\n楼道灯坏了一个月。\n说话人1 00:00:15\n好的，已经记录。",
])
def test_transcripts_as_speech_recognition_exports_them_are_read_by_turn(transcript):
    assert caller_turns(normalise(transcript)).strip() == "楼道灯坏了一个月。"


@pytest.mark.parametrize("text", [
    "我们9:30就到了，市民 10:30 才来",  # a time after a word is no label without an operator's
    "会议定在【10:30】，市民：可以参加",
    "说话人1 您好 说话人2 楼下油烟",  # a numbered speaker without a time or colon: no label
])
def test_times_that_label_no_turn_are_read(text):
    assert caller_turns(normalise(text)) == normalise(text)


@pytest.mark.parametrize("transcript", [
    "[00:00:01] 您好，12345热线，请问有什么可以帮您？\n[00:00:04] 楼道灯坏了一个月。\n[00:00:12] 好的，已经给您登记了，感谢您的来电。",
    "(00:01) 您好，请讲。(00:03) 楼道灯坏了一个月。(00:11) 好的，已经记录，再见。",
])
def test_the_times_stamped_on_an_unlabelled_transcript_do_not_hide_its_script(transcript):
    assert caller_turns(normalise(transcript)).strip(" 。") == "楼道灯坏了一个月"


def test_a_time_alone_is_no_script():
    text = "9:30 的时候楼下又开始施工，您好，12345热线，请问有什么可以帮您"  # a caller quoting the greeting
    assert caller_turns(normalise(text)) == normalise(text)
