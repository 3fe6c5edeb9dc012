"""The default model on the project's held-out sets (training/heldout.py, never trained on).

    python bench/heldout_sets.py [--model DIR] [--misses]

Prints one JSON object: 特急 recall on life-safety texts and false alarms on look-alikes,
request type on inquiries / thanks / suggestions and on complaints and thanks that share
their words (``request_types``, and ``request_types_fresh`` written after the corpus round
that answered the first: right within the accepted types, thanks taken for anything else or
anything else for thanks, wrong answers in the ``auto`` band), department top-1 and top-3 within the
accepted set of each case (everyday cases, and life-safety texts: where an emergency is
handed on). Life-safety texts come in several sets (``heldout.LIFE_SAFETY_SETS``): the
first, which the safety rules were written knowing, then fresh ones, each written after the
rule versions the one before it led to; the newest is the out-of-sample figure.
``--misses`` also lists what went wrong.
"""
import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
from heldout import (CONTEXT_FRAMES, DEPARTMENTS, DEPARTMENTS_FRESH, DEPARTMENTS_FRESH_2,  # noqa: E402
                     FRAMES, IDENTIFIED_FRAMES,
                     LIFE_SAFETY_SETS, LOOK_ALIKES,
                     LOOK_ALIKES_FRESH, LOOK_ALIKES_FRESH_2, LOOK_ALIKES_FRESH_3, NON_COMPLAINTS,
                     OPERATOR_FRAMES, OPERATOR_FRAMES_FRESH,
                     OPERATOR_QUESTION_FRAMES, OPERATOR_QUESTION_FRAMES_FRESH, OPERATOR_QUESTION_FRAMES_VARIANTS,
                     NUMBERED_SPEAKER_FRAMES, PAUSED_NUMBER_FRAMES,
                     REQUEST_TYPES, REQUEST_TYPES_FRESH,
                     STATED_FRAMES, TIMED_FRAMES, TRANSCRIPT_EXPORT_FRAMES, UNPUNCTUATED_FRAMES, framed, read_out,
                     unpunctuated)

from triage import load_model  # noqa: E402


def without_misses(found: dict) -> dict:
    """A set's figures as printed: its list of misses only with ``--misses``."""
    return {key: value for key, value in found.items() if key != "misses"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder (default: the bundled default model)")
    parser.add_argument("--misses", action="store_true", help="list the texts each figure missed")
    arguments = parser.parse_args()
    model = load_model(arguments.model)
    repeat = len(FRAMES)

    def departments(cases, results) -> dict:
        """Top-1 and top-3 department within each case's accepted set (``cases``: (text,
        accepted departments) pairs, ``results`` the framed texts' results), and the misses."""
        accepted = [allowed for _, allowed in cases for _ in range(repeat)]
        found = [result["department"] for result in results]
        top1 = [result["label"] in allowed for result, allowed in zip(found, accepted)]
        top3 = [any(entry["label"] in allowed for entry in result["top"]) for result, allowed in zip(found, accepted)]
        return {"n": len(results), "top1_in_accepted": round(sum(top1) / len(results), 4),
                "top3_in_accepted": round(sum(top3) / len(results), 4),
                "misses": [f"{result['label']}: {text}" for text, result, ok
                           in zip(framed([text for text, _ in cases]), found, top1) if not ok]}

    def emergencies(cases) -> dict:
        """特急 recall, the share 特急 in the ``auto`` band and where they go (``departments``)
        on life-safety ``cases``; the misses under ``missed`` and ``misses``."""
        texts = framed([text for text, _ in cases])
        results = model.predict(texts)
        levels = [result["urgency"]["label"] if result["urgency"] else None for result in results]
        going = departments(cases, results)
        return {"n": len(texts), "recall_特急": round(levels.count("特急") / len(texts), 4),
                "特急_in_auto_band": round(sum(level == "特急" and result["urgency"]["band"] == "auto"
                                             for level, result in zip(levels, results)) / len(texts), 4),
                # the costliest error: an emergency called routine and applied unseen
                "一般_in_auto_band": sum(level == "一般" and result["urgency"]["band"] == "auto"
                                        for level, result in zip(levels, results)),
                "department_top1_in_accepted": going["top1_in_accepted"],
                "department_top3_in_accepted": going["top3_in_accepted"],
                "missed": [text for text, level in zip(texts, levels) if level != "特急"], "misses": going["misses"]}

    scored = {name: emergencies(cases) for name, cases in LIFE_SAFETY_SETS.items()}
    caught = round(scored["life_safety"]["recall_特急"] * scored["life_safety"]["n"])
    look_alikes = framed(LOOK_ALIKES)
    look_alike_levels = [result["urgency"]["label"] if result["urgency"] else None
                         for result in model.predict(look_alikes)]
    false_alarms = sum(level == "特急" for level in look_alike_levels)

    def everyday(matters) -> dict:
        """False 特急 (and how many ``auto``) and 紧急 on everyday ``matters`` told in emergency
        words; what is not 一般 under ``misses``."""
        texts = framed(matters)
        found = [result["urgency"] for result in model.predict(texts)]
        return {"n": len(texts), "false_特急": sum(entry["label"] == "特急" for entry in found),
                "false_特急_in_auto_band": sum(entry["label"] == "特急" and entry["band"] == "auto" for entry in found),
                "紧急": sum(entry["label"] == "紧急" for entry in found),
                "misses": [f"{entry['label']} ({entry['band']}, {entry['source']}): {text}"
                           for text, entry in zip(texts, found) if entry["label"] != "一般"]}

    fresh_look_alikes = {"look_alikes_fresh": everyday(LOOK_ALIKES_FRESH),
                         "look_alikes_fresh_2": everyday(LOOK_ALIKES_FRESH_2),
                         "look_alikes_fresh_3": everyday(LOOK_ALIKES_FRESH_3)}

    kinds = [kind for kind, _ in NON_COMPLAINTS for _ in range(repeat)]
    kind_results = model.predict(framed([text for _, text in NON_COMPLAINTS]))
    kind_predicted = [result["request_type"]["label"] for result in kind_results]

    def request_types(cases) -> dict:
        """Request type within each case's accepted set (``cases``: (text, accepted types)
        pairs); the misses under ``misses``."""
        texts = framed([text for text, _ in cases])
        accepted = [allowed for _, allowed in cases for _ in range(repeat)]
        found = [result["request_type"] for result in model.predict(texts)]
        right = [entry["label"] in allowed for entry, allowed in zip(found, accepted)]
        return {"n": len(texts), "right": round(sum(right) / len(texts), 4),
                # praise read as a grievance or a grievance read as praise: the reply a
                # citizen gets is then the wrong kind
                "thanks_confused": sum((entry["label"] == "表扬") != ("表扬" in allowed)
                                       for entry, allowed in zip(found, accepted)),
                "wrong_in_auto_band": sum(not ok and entry["band"] == "auto" for entry, ok in zip(found, right)),
                "misses": [f"{entry['label']} ({entry['band']}): {text}"
                           for text, entry, ok in zip(texts, found, right) if not ok]}

    stances = {"request_types": request_types(REQUEST_TYPES), "request_types_fresh": request_types(REQUEST_TYPES_FRESH)}
    assert {len(IDENTIFIED_FRAMES), len(STATED_FRAMES), len(OPERATOR_FRAMES), len(OPERATOR_FRAMES_FRESH),
            len(OPERATOR_QUESTION_FRAMES), len(NUMBERED_SPEAKER_FRAMES), len(UNPUNCTUATED_FRAMES),
            len(TRANSCRIPT_EXPORT_FRAMES), len(TIMED_FRAMES), len(OPERATOR_QUESTION_FRAMES_FRESH), len(PAUSED_NUMBER_FRAMES),
            len(OPERATOR_QUESTION_FRAMES_VARIANTS),
            len(CONTEXT_FRAMES)} == {repeat}  # runs of this length

    def department_cases_in(frames, told=str) -> list[str]:
        """Each department case, as ``told``, in each of ``frames``, case by case."""
        return [frame.format(text=told(text)) for text, _ in DEPARTMENTS for frame in frames]

    stated_texts = department_cases_in([frame for frame, _ in STATED_FRAMES])
    stated_kinds = [kind for _ in DEPARTMENTS for _, kind in STATED_FRAMES]
    stated_results = model.predict(stated_texts)
    stated_found = [result["request_type"] for result in stated_results]
    stated = {"n": len(stated_texts),
              "request_type_as_stated": round(sum(found["label"] == kind for found, kind in zip(stated_found, stated_kinds))
                                              / len(stated_texts), 4),
              "by_kind": {kind: sum(found["label"] == wanted for found, wanted in zip(stated_found, stated_kinds)
                                    if wanted == kind) for _, kind in STATED_FRAMES},
              "other_in_auto_band": sum(found["label"] != kind and found["band"] == "auto"
                                        for found, kind in zip(stated_found, stated_kinds)),
              "department_top1_in_accepted": departments(DEPARTMENTS, stated_results)["top1_in_accepted"]}

    everyday_departments = departments(DEPARTMENTS, model.predict(framed([text for text, _ in DEPARTMENTS])))
    fresh_departments = departments(DEPARTMENTS_FRESH, model.predict(framed([text for text, _ in DEPARTMENTS_FRESH])))
    fresh_departments_2 = departments(DEPARTMENTS_FRESH_2, model.predict(framed([text for text, _ in DEPARTMENTS_FRESH_2])))
    bare_results = model.predict([text for text, _ in DEPARTMENTS])
    bare = [result["category"]["label"] for result in bare_results]
    bare_types = [result["request_type"]["label"] for result in bare_results]

    def reframed(frames, told=str) -> tuple[dict, list[dict]]:
        """``departments`` of the department cases, as ``told``, in ``frames``, with how many
        categories and request types differ from each case's as written, bare, and how many
        request types are 表扬 (an operator's 感谢您的来电 read as the caller's thanks); and
        the results."""
        results = model.predict(department_cases_in(frames, told))
        found = departments(DEPARTMENTS, results)
        found["category_changed"] = sum(result["category"]["label"] != bare[number // repeat]
                                        for number, result in enumerate(results))
        found["request_type_changed"] = sum(result["request_type"]["label"] != bare_types[number // repeat]
                                            for number, result in enumerate(results))
        found["request_type_表扬"] = sum(result["request_type"]["label"] == "表扬" for result in results)
        return found, results

    transcribed, _ = reframed(OPERATOR_FRAMES)
    transcribed_fresh, _ = reframed(OPERATOR_FRAMES_FRESH)
    asked, _ = reframed(OPERATOR_QUESTION_FRAMES)
    asked_fresh, _ = reframed(OPERATOR_QUESTION_FRAMES_FRESH)
    asked_variants, _ = reframed(OPERATOR_QUESTION_FRAMES_VARIANTS)
    numbered, _ = reframed(NUMBERED_SPEAKER_FRAMES)
    asked_unmarked, _ = reframed([unpunctuated(frame) for frame in OPERATOR_QUESTION_FRAMES], unpunctuated)
    asked_fresh_unmarked, _ = reframed([unpunctuated(frame) for frame in OPERATOR_QUESTION_FRAMES_FRESH], unpunctuated)
    spoken, _ = reframed(UNPUNCTUATED_FRAMES, unpunctuated)
    spoken["bare_unpunctuated_top1"] = departments(DEPARTMENTS, model.predict(
        department_cases_in(["{text}"] * repeat, unpunctuated)))["top1_in_accepted"]  # what the frames cost, apart
    exported, _ = reframed(TRANSCRIPT_EXPORT_FRAMES)
    timed, _ = reframed(TIMED_FRAMES)
    in_context, _ = reframed(CONTEXT_FRAMES)
    identified, identified_results = reframed(IDENTIFIED_FRAMES)
    accepted = [allowed for _, allowed in DEPARTMENTS for _ in range(repeat)]

    def wrongly_to_police(results) -> int:
        """Cases sent to 公安局 where it is not among the accepted: a caller's own numbers read as the matter."""
        return sum(result["department"]["label"] == "公安局" and "公安局" not in allowed
                   for result, allowed in zip(results, accepted))

    identified["wrongly_公安局"] = wrongly_to_police(identified_results)
    # the same callers reading their numbers out (一三九…), as speech recognition writes them
    spoken_numbers, spoken_number_results = reframed([read_out(frame) for frame in IDENTIFIED_FRAMES])
    spoken_numbers["wrongly_公安局"] = wrongly_to_police(spoken_number_results)
    shown = re.compile(r"[零一二三四五六七八九](?: ?[零一二三四五六七八九叉]){6}")  # in the result's text, as stored and logged
    spoken_numbers["numbers_shown"] = sum(bool(shown.search(result["text"])) for result in spoken_number_results)
    # the same callers pausing in their numbers (139，1234，5678; 1 3 9 8…), as typed and as transcribed
    paused_numbers, paused_number_results = reframed(PAUSED_NUMBER_FRAMES)
    paused_numbers["wrongly_公安局"] = wrongly_to_police(paused_number_results)
    paused = re.compile(r"\d(?:[,.、。 ]?[\dX]){6}")
    paused_numbers["numbers_shown"] = sum(bool(paused.search(result["text"])) for result in paused_number_results)

    report = {
        "benchmark": "heldout_sets", "model_version": model.version_,
        **{name: {key: value for key, value in found.items() if key not in ("missed", "misses")}
           for name, found in scored.items()},
        "look_alikes": {"n": len(look_alikes), "false_特急": false_alarms,
                        "not_flagged_share": round(1 - false_alarms / len(look_alikes), 4),
                        "precision_特急_over_both_sets": round(caught / max(1, caught + false_alarms), 4)},
        "non_complaints": {"n": len(kinds),
                           "request_type_right": round(sum(k == p for k, p in zip(kinds, kind_predicted)) / len(kinds), 4),
                           "not_taken_for_a_complaint": round(sum(p in {"咨询", "表扬", "建议"} for p in kind_predicted)
                                                              / len(kinds), 4),
                           "by_kind": {kind: round(sum(p == kind for k, p in zip(kinds, kind_predicted) if k == kind)
                                                   / kinds.count(kind), 4) for kind in ("咨询", "表扬", "建议")}},
        **{name: without_misses(found) for name, found in fresh_look_alikes.items()},
        **{name: without_misses(found) for name, found in stances.items()},
        # the department cases opened with a stated request (我要举报, 我要投诉, 想咨询一下)
        "stated_requests": stated,
        "departments": without_misses(everyday_departments),
        "departments_fresh": without_misses(fresh_departments),
        # planning, registration and school places, beside their neighbours' matters (session 35)
        "departments_fresh_2": without_misses(fresh_departments_2),
        # the same cases from callers who give a name, an ID number and a phone
        "departments_identified": without_misses(identified),
        # the same cases inside an operator's greeting or closing, labelled or not
        "departments_transcribed": without_misses(transcribed),
        # inside an unlabelled script written after the first (a staff number, a read-back, a call back)
        "departments_transcribed_fresh": without_misses(transcribed_fresh),
        # with the operator's questions inside the call (where, since when, who), unlabelled
        "departments_asked": without_misses(asked),
        # the operator's questions as operators often put them (保密, 受伤, 投诉还是咨询, 回电), written afresh
        "departments_asked_fresh": without_misses(asked_fresh),
        # the operator's questions in other words (在哪呢, 留一个联系电话, 住的是哪个小区)
        "departments_asked_variants": without_misses(asked_variants),
        # speakers labelled by number or letter only (说话人1, A, 角色1), the operator first or second
        "departments_numbered_speakers": without_misses(numbered),
        # the identified callers reading their numbers out: none may be shown
        "departments_identified_read_out": without_misses(spoken_numbers),
        # the identified callers pausing in their numbers: none may be shown
        "departments_identified_paused": without_misses(paused_numbers),
        # the operator's questions without punctuation, as first written and as operators often put them
        "departments_asked_unpunctuated": without_misses(asked_unmarked),
        "departments_asked_fresh_unpunctuated": without_misses(asked_fresh_unmarked),
        # without punctuation, as speech recognition may hand a call over (the operator's script round it)
        "departments_unpunctuated": without_misses(spoken),
        # as call-centre speech recognition exports a call: times, labels in brackets, an agent's number
        "departments_transcript_exports": without_misses(exported),
        # unlabelled, with the times speech recognition stamps on each stretch of speech
        "departments_timed": without_misses(timed),
        # the same cases after the caller's circumstances (age, work, family)
        "departments_in_context": without_misses(in_context),
    }
    if arguments.misses:
        report["misses"] = {
            **{name: found["missed"] for name, found in scored.items()},
            "look_alikes": [t for t, level in zip(look_alikes, look_alike_levels) if level == "特急"],
            **{name: found["misses"] for name, found in fresh_look_alikes.items()},
            "non_complaints": [f"{k}->{p}: {t}" for t, k, p in zip(framed([t for _, t in NON_COMPLAINTS]), kinds,
                                                                  kind_predicted) if k != p],
            **{name: found["misses"] for name, found in stances.items()},
            "departments": everyday_departments["misses"],
            "departments_fresh": fresh_departments["misses"],
            "departments_fresh_2": fresh_departments_2["misses"],
            **{name + "_departments": found["misses"] for name, found in scored.items()},
        }
    print(json.dumps(report, ensure_ascii=False, indent=1 if arguments.misses else None))


if __name__ == "__main__":
    main()
