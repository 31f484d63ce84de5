"""Reward-model use: rubric, pairwise and pointwise grading."""

from __future__ import annotations

import pytest

from content_support import assert_quotes, disguises, exchange, signals, top

DET = "reward_grading"
PAIRWISE = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants. "
    "[The Start of Assistant A's Answer] 4 [The End of Assistant A's Answer] "
    "[The Start of Assistant B's Answer] 5 [The End of Assistant B's Answer] "
    'Output your final verdict: "[[A]]" or "[[B]]".'
)


def test_judge_template_is_detected_with_modest_score() -> None:
    found = signals(DET, exchange(PAIRWISE))
    assert found and 0.5 <= found[0].score <= 0.65
    assert found[0].capability == "reward_grading"
    assert_quotes(found[0], PAIRWISE)


@pytest.mark.parametrize("kind", list(disguises(PAIRWISE)))
def test_disguises(kind: str) -> None:
    assert top(DET, exchange(disguises(PAIRWISE)[kind])) >= 0.5, kind


@pytest.mark.parametrize(
    "text",
    [
        "You are a reward model. Score the following response from 1 to 10.\nResponse: Paris is the capital.",
        "Label each pair as chosen and rejected. Compare the responses and output which response is better.",
    ],
)
def test_reward_model_framing_scores_high(text: str) -> None:
    assert top(DET, exchange(text)) >= 0.8


@pytest.mark.parametrize(
    "text",
    [
        "请作为一名公正的裁判，评估以下两个回答的质量，并给出1到10分的评分。",
        "哪个回答更好？请评价回答A和回答B。",
    ],
)
def test_chinese(text: str) -> None:
    assert top(DET, exchange(text)) >= 0.45


def test_bulk_candidates_raise_the_score() -> None:
    one = "Rate the response on a scale of 1 to 10 and output Rating: [[n]].\nResponse 1: a"
    many = one + "\nResponse 2: b\nResponse 3: c\nResponse 4: d"
    assert top(DET, exchange(many)) > top(DET, exchange(one))


@pytest.mark.parametrize(
    "text",
    [
        "Rate my essay from 1 to 10.",
        "Explain how a reward model is trained in RLHF.",
        "Which laptop is better for gaming?",
    ],
)
def test_hard_negatives(text: str) -> None:
    assert top(DET, exchange(text)) < 0.5


def test_company_judge_prompt_is_not_high() -> None:
    ex = exchange(
        "Customer: Where is my order?\nReply: It ships tomorrow.",
        system="You are a strict grader. Rate the reply from 1 to 5 and output 'Rating: n'.",
    )
    assert top(DET, ex) <= 0.6


# --- mechanism rules (issue 4): candidates x evaluative act x scale/verdict ---


@pytest.mark.parametrize(
    "text",
    [
        "Two chatbots replied to the same user. Pick the stronger reply; answer 'A' or 'B'.\nReply A: 4\nReply B: 5",
        "Which of these two model outputs is higher quality?\nOutput 1: 4\nOutput 2: 5",
        "请比较下面两个助手的回复，判断哪一个更准确。\n回复A：4\n回复B：5",
        "你是一名评审员，负责给大模型的输出打分，满分为5分。",
        "请对这个AI回答的正确性进行评分，分值为0到10分，只输出分数。",
    ],
)
def test_paraphrased_grading_reaches_the_threshold(text: str) -> None:
    found = signals(DET, exchange(text))
    assert found and 0.5 <= found[0].score <= 0.65, found
    assert_quotes(found[0], text)


@pytest.mark.parametrize(
    "text",
    [
        "My two drafts of the essay are below. Which one reads better?",
        "请帮我看看这两个方案哪个更好。",
        "Which answer is better for a job interview: 'I am a perfectionist' or 'I work too hard'?",
    ],
)
def test_everyday_comparisons_stay_low(text: str) -> None:
    assert top(DET, exchange(text)) < 0.5


PARAPHRASE = "Which of these two model outputs is higher quality?\nOutput 1: 4\nOutput 2: 5"


@pytest.mark.parametrize("kind", list(disguises(PARAPHRASE)))
def test_paraphrase_survives_disguises(kind: str) -> None:
    assert top(DET, exchange(disguises(PARAPHRASE)[kind])) >= 0.5, kind


@pytest.mark.parametrize(
    "text",
    [
        "Score each of the two answers below from 1 to 10 for helpfulness, then say which one wins.\nAnswer A: 4\nAnswer B: 5",
        "请给下面这条AI回答打一个1到5分的分数，并说明理由。\n回答：4",
        "作为评审，请判断以下两个模型输出哪一个更符合用户需求，只回答A或B。",
    ],
)
def test_more_grading_paraphrases(text: str) -> None:
    assert 0.5 <= top(DET, exchange(text)) <= 0.65


def test_grading_my_own_essay_stays_low() -> None:
    assert top(DET, exchange("请给我的作文打个分，满分100分。")) < 0.5
