"""The project-written seed corpus: every label it uses exists, it covers every category
and department, and the generator is deterministic."""
import re
import sys
from pathlib import Path

import pytest

from triage import taxonomy

TRAINING = Path(__file__).resolve().parent.parent / "training"
sys.path.insert(0, str(TRAINING))

from generate_corpus import generate  # noqa: E402
from situations import SITUATIONS  # noqa: E402


@pytest.mark.parametrize("situation", SITUATIONS, ids=lambda s: f"{s[0]}/{s[1]}/{s[2]}/{s[5][0][:8]}")
def test_every_situation_uses_known_labels(situation):
    category, subcategory, department, urgency, request_type, problems = situation
    # both or neither: a situation without a category teaches the other heads only; a label
    # None is one the situation does not teach (round 19: no urgency)
    assert (category, subcategory) == (None, None) or subcategory in taxonomy.category_tree()[category]
    assert department is None or department in taxonomy.departments()
    assert urgency is None or urgency in taxonomy.URGENCY_LEVELS
    assert request_type is None or request_type in taxonomy.REQUEST_TYPES
    assert (category, department, urgency, request_type) != (None, None, None, None)
    assert problems and all(problem.strip() for problem in problems)


def test_the_corpus_covers_every_category_department_urgency_and_request_type():
    assert {s[0] for s in SITUATIONS} - {None} == set(taxonomy.category_tree())
    assert {s[2] for s in SITUATIONS} - {None} == set(taxonomy.departments())
    assert {s[3] for s in SITUATIONS} - {None} == set(taxonomy.URGENCY_LEVELS)
    assert {s[4] for s in SITUATIONS} - {None} == set(taxonomy.REQUEST_TYPES)


def test_generation_is_deterministic_and_mixes_registers_and_scripts():
    first, second = generate(3, seed=7), generate(3, seed=7)
    assert first == second and len(first) == 3 * len(SITUATIONS)
    assert {row["register"] for row in first} == {"hotline", "web", "letter"}
    assert any("\uff01" <= ch <= "\uff5e" for row in first for ch in row["text"])  # full-width forms
    assert generate(3, seed=8) != first


def test_callers_tell_their_circumstances_in_every_register_and_many_departments():
    """Session 35: a caller's age, work or family before the matter, spread so that no
    department owns such words; drawn apart from the rest, so every other choice stays."""
    from generate_corpus import CIRCUMSTANCES

    rows = generate(3, seed=7)
    telling = [row for row in rows if any(sentence in row["text"] for sentence in CIRCUMSTANCES)]
    assert 0.08 < len(telling) / len(rows) < 0.25
    assert {row["register"] for row in telling} == {"hotline", "web", "letter"}
    assert len({row["department"] for row in telling if row["department"]}) >= 20


def test_callers_give_numbers_in_every_register_and_the_masker_catches_each():
    from triage.normalise import normalise
    from triage.privacy import mask_personal_data

    rows = generate(3, seed=7)
    masked = [(row["register"], *mask_personal_data(normalise(row["text"]))) for row in rows]
    giving = [(register, kinds) for register, _, kinds in masked if kinds]
    assert {register for register, _ in giving} == {"hotline", "web", "letter"}
    assert {kind for _, kinds in giving for kind in kinds} == {"phone", "id_number"}
    assert 0.08 < len(giving) / len(rows) < 0.25
    assert not [text for _, text, _ in masked if re.search(r"\d{7}", text)]  # no number left unmasked


def test_no_held_out_sentence_is_in_the_training_corpus():
    from heldout import (CONTEXT_FRAMES, DEPARTMENTS, DEPARTMENTS_FRESH, DEPARTMENTS_FRESH_2,
                         IDENTIFIED_FRAMES, LIFE_SAFETY_SETS, LOOK_ALIKES, LOOK_ALIKES_FRESH,
                         LOOK_ALIKES_FRESH_2, LOOK_ALIKES_FRESH_3,
                         NON_COMPLAINTS, NUMBERED_SPEAKER_FRAMES, OPERATOR_FRAMES, OPERATOR_FRAMES_FRESH,
                         OPERATOR_QUESTION_FRAMES, OPERATOR_QUESTION_FRAMES_FRESH, OPERATOR_QUESTION_FRAMES_VARIANTS,
                         PAUSED_NUMBER_FRAMES, REQUEST_TYPES, REQUEST_TYPES_FRESH, STATED_FRAMES, TIMED_FRAMES,
                         TRANSCRIPT_EXPORT_FRAMES, UNPUNCTUATED_FRAMES)

    corpus = (TRAINING / "seed_corpus.csv").read_text(encoding="utf-8")
    held_out = ([text for cases in LIFE_SAFETY_SETS.values() for text, _ in cases]
                + LOOK_ALIKES + LOOK_ALIKES_FRESH + LOOK_ALIKES_FRESH_2 + LOOK_ALIKES_FRESH_3
                + [text for _, text in NON_COMPLAINTS]
                + [text for text, _ in DEPARTMENTS + DEPARTMENTS_FRESH + DEPARTMENTS_FRESH_2 + REQUEST_TYPES + REQUEST_TYPES_FRESH]
                + [part for frame in IDENTIFIED_FRAMES + OPERATOR_FRAMES + OPERATOR_FRAMES_FRESH + OPERATOR_QUESTION_FRAMES
                   + NUMBERED_SPEAKER_FRAMES + CONTEXT_FRAMES + OPERATOR_QUESTION_FRAMES_FRESH
                   + OPERATOR_QUESTION_FRAMES_VARIANTS + PAUSED_NUMBER_FRAMES + UNPUNCTUATED_FRAMES
                   + TRANSCRIPT_EXPORT_FRAMES + TIMED_FRAMES
                   + tuple(frame for frame, _ in STATED_FRAMES)
                   for part in frame.split("{text}") if part])
    assert len(held_out) >= 170
    span = 9  # no run of this many characters of a held-out text may appear in training
    shared = [text for text in held_out if any(text[i:i + span] in corpus for i in range(len(text) - span + 1))]
    assert shared == []
