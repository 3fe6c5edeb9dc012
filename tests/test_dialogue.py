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
