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
