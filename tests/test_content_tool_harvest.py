"""Tool-use and agentic harvesting."""

from __future__ import annotations

import pytest

from content_support import assert_quotes, disguises, exchange, signals, top
from distillwatch.record import Turn

DET = "tool_harvest"
ATTACK = "Generate 20 realistic user queries that require calling the following tools, with the full trajectory of function calls."
TOOLS = ("search_flights", "book_flight", "get_weather")


def test_synthetic_tool_tasks() -> None:
    found = [
        s
        for s in signals(DET, exchange(ATTACK, tool_names=TOOLS))
        if s.name == "content.synthetic_tool_task"
    ]
    assert found and found[0].score >= 0.7
    assert found[0].capability == "tool_use"
    assert_quotes(found[0], ATTACK)


@pytest.mark.parametrize("kind", list(disguises(ATTACK)))
def test_disguises(kind: str) -> None:
    assert top(DET, exchange(disguises(ATTACK)[kind]), "content.synthetic_tool_task") >= 0.7, kind


def test_chinese_tool_tasks() -> None:
    assert (
        top(
            DET,
            exchange("根据以下工具，生成10个需要调用这些函数的用户任务。"),
            "content.synthetic_tool_task",
        )
        >= 0.7
    )


def test_product_tool_use_stays_quiet() -> None:
    ex = exchange(
        "Book me a flight to Boston next Friday.",
        system="You are a travel assistant.",
        tool_names=TOOLS,
    )
    assert top(DET, ex) < 0.5


def test_trajectory_and_catalog_are_low() -> None:
    history = [Turn("user", "fix the bug"), *[Turn("tool", "ok", tool_results=1) for _ in range(5)]]
    many_tools = tuple(f"tool_{i}" for i in range(20))
    found = {
        s.name: s
        for s in signals(DET, exchange("continue", history=history, tool_names=many_tools))
    }
    assert found["content.agent_trajectory"].score < 0.5
    assert found["content.agent_trajectory"].capability == "agentic"
    assert found["content.tool_catalog"].score < 0.5


def test_orchestration_prompt() -> None:
    system = "You are the orchestrator agent. Decompose the user's goal into subtasks and delegate each subtask to a sub-agent."
    found = [
        s
        for s in signals(DET, exchange("Build a website", system=system))
        if s.name == "content.orchestration_prompt"
    ]
    assert found and 0.2 <= found[0].score < 0.5 and found[0].capability == "agentic"


def test_computer_use_with_reasoning_for_each_action() -> None:
    plain = exchange("Here is a screenshot. Click the login button at coordinates (200, 300).")
    harvest = exchange(
        "Given the screenshot, click the next element and explain your reasoning before each action."
    )
    assert (
        0
        < top(DET, plain, "content.computer_use_step")
        < top(DET, harvest, "content.computer_use_step")
    )


# --- mechanism rules (issue 4): made-up tool results in a run of calls ---


@pytest.mark.parametrize(
    "text",
    [
        "Act out a full agent episode for this goal: every function call, a made-up response from each function, and the follow-up action.",
        "Assume the tools return realistic fake data. Write the entire run as a log of calls and simulated outputs.",
        "You write training trajectories for tool-using agents: for the declared tools, a request and its calls.",
        "请模拟上述工具的返回结果，把完成这个目标的每一次函数调用和返回值都写出来。",
        "针对给定的这些接口，虚构20个需要调用它们的用户请求，并给出相应的调用参数。",
    ],
)
def test_paraphrased_tool_harvest(text: str) -> None:
    found = [
        s
        for s in signals("tool_harvest", exchange(text))
        if s.name == "content.synthetic_tool_task"
    ]
    assert found and found[0].score >= 0.7, found
    assert_quotes(found[0], text)


@pytest.mark.parametrize(
    "text",
    [
        "Write unit tests that mock the API responses for my weather client.",
        "帮我写一个调用天气接口的函数，并模拟返回结果做单元测试。",
        "How do I log each function call and its return value in Python?",
    ],
)
def test_mocks_and_call_logging_stay_quiet(text: str) -> None:
    assert top("tool_harvest", exchange(text)) < 0.5


PARAPHRASE = "Assume the tools return realistic fake data. Write the entire run as a log of calls and simulated outputs."


@pytest.mark.parametrize("kind", list(disguises(PARAPHRASE)))
def test_paraphrase_survives_disguises(kind: str) -> None:
    assert top("tool_harvest", exchange(disguises(PARAPHRASE)[kind])) >= 0.7, kind


@pytest.mark.parametrize(
    "text",
    [
        "Roleplay the whole agent loop: call the tools one by one, invent what each tool returns, and continue until the task is done.",
        "Given the functions above, write 12 example user messages that would trigger them, each paired with the correct function call.",
        "Fabricate a realistic transcript of an assistant using the provided APIs: each call, the mocked response, and what it does next.",
        "请为上述接口生成一批训练数据：虚构用户问题，并给出完整的函数调用过程和模拟的返回值。",
    ],
)
def test_more_tool_harvest_paraphrases(text: str) -> None:
    assert top("tool_harvest", exchange(text)) >= 0.7


def test_mocked_responses_in_a_test_suite_stay_quiet() -> None:
    text = "In my test suite, each call to the payment API returns a mocked response; how do I assert what it does next?"
    assert top("tool_harvest", exchange(text)) < 0.5
