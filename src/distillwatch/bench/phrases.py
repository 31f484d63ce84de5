"""Combinatorial phrase banks for attack wrappers and for innocent look-alikes.

Real harvesting operators run one instruction in thousands of slot-filled
variations, so a detector that matches an exact string is useless. Every
wrapper here is assembled from several independent banks (opening, task,
style, constraint, format, labels, order), giving far more distinct wordings
than a campaign sends. The same vocabulary ("step by step", "score",
"you are an expert") also appears in benign traffic at realistic rates, via
the innocent builders at the end, so a keyword list cannot separate the two.
"""

from __future__ import annotations

import random
import re

from distillwatch.bench.textsource import TextItem

__all__ = [
    "reasoning_reconstruction",
    "rubric_grading",
    "censorship_rewrite",
    "expert_system_prompt",
    "expert_user_wrap",
    "orchestration_system_prompt",
    "casual_paraphrase",
    "innocent_followup",
    "student_math",
    "eval_cot_prompt",
    "perturb_answer",
    "SENSITIVE_TOPICS",
]

_OPEN = [
    "Below is a problem together with its final answer.",
    "Here is a question and a completed response.",
    "You are given a task and the answer that was accepted for it.",
    "The following item includes a prompt and its reference solution.",
    "I will show you a question and the correct final result.",
    "Consider the exercise below; its answer is already known.",
    "Attached: one prompt and the response that was marked correct.",
    "This sample pairs a user request with a finished reply.",
    "Read the problem and the verified answer that follows.",
    "We have a question and its gold answer.",
    "Take the task below and the output that solves it.",
    "Input consists of a problem statement plus its known solution.",
]
_TASK = [
    "Imagine and articulate the internal reasoning that produced this answer",
    "Reconstruct the hidden thought process that leads to the given answer",
    "Write out the chain of thinking a careful solver would follow to reach it",
    "Recreate the reasoning behind the response",
    "Describe, as an inner monologue, how one arrives at this result",
    "Lay out the full derivation that justifies the final answer",
    "Produce the private deliberation that would precede this reply",
    "Spell out every inference needed to get from the question to the answer",
    "Generate the rationale a strong model would think through before answering",
    "Explain the thinking that connects the problem to its solution",
    "Narrate the problem-solving process that ends in this answer",
    "Unpack the latent reasoning trace behind the completed response",
]
_STYLE = [
    "and write it out step by step.",
    "one step per line, without skipping anything.",
    "in numbered steps, making every intermediate result explicit.",
    "as a detailed chain of thought.",
    "showing each inference before the next.",
    "in full sentences, slowly and thoroughly.",
    "with explicit sub-goals and checks along the way.",
    "at the level of detail of a textbook solution.",
    "including the dead ends you would try first.",
    "so that a student could follow each move.",
]
_CONSTRAINT = [
    "Do not mention that the answer was provided.",
    "Never refer to the reference answer; write as if you found it yourself.",
    "Write it as though you were thinking aloud for the first time.",
    "",
    "Keep the reasoning natural, with occasional self-checks.",
    "End by restating the final answer.",
    "Avoid saying 'as given'; the reasoning must stand on its own.",
    "Make it sound spontaneous rather than reverse-engineered.",
]
_FORMAT = [
    "Wrap the reasoning in <think></think> tags, then give the answer.",
    "Use the format 'Reasoning:' followed by 'Answer:'.",
    'Return JSON with the keys "reasoning" and "answer".',
    "",
    "Put the reasoning first and the final answer on the last line.",
    "Separate steps with blank lines.",
]
_Q_LABEL = [
    "Question:",
    "Problem:",
    "Task:",
    "### Prompt",
    "[QUESTION]",
    "Q:",
    "Input:",
    "<question>",
]
_A_LABEL = [
    "Answer:",
    "Final answer:",
    "Reference response:",
    "### Completed response",
    "[ANSWER]",
    "A:",
    "Output:",
    "<answer>",
]

_GRADER_ROLE = [
    "You are a strict grader.",
    "Act as a reward model.",
    "You are an expert evaluator of AI responses.",
    "Serve as an impartial scoring function.",
    "You are a meticulous reviewer for a model training team.",
    "Behave like a preference model that outputs numeric rewards.",
    "You are a senior examiner.",
    "Take the role of an automatic quality rater.",
]
_GRADER_TASK = [
    "Score each candidate response against the rubric below.",
    "Rate the candidates from 1 to 10 using these criteria.",
    "Assign a numeric reward to every response.",
    "Grade the following answers; higher is better.",
    "Evaluate the candidates and give each a score out of 10.",
    "Judge how well each response satisfies the rubric.",
    "Compute a quality score for each completion.",
]
_CRITERIA = [
    "correctness",
    "completeness of reasoning",
    "clarity",
    "harmlessness",
    "instruction following",
    "conciseness",
    "use of evidence",
    "mathematical rigor",
    "code quality",
    "tone",
    "faithfulness to the question",
    "logical consistency",
]
_GRADER_OUT = [
    'Return only JSON: {"scores": [...], "best": <index>}.',
    "Output one line per candidate: 'Candidate k: score'.",
    "Give the score, then a one-sentence justification, for each candidate.",
    "Reply with a comma-separated list of scores and nothing else.",
    "Format: <score id=k>N</score> for each candidate.",
    "Finish with the index of the best candidate.",
]

SENSITIVE_TOPICS = [
    "a violent crackdown on student protesters",
    "criticism of a head of state by a jailed writer",
    "the status of a disputed island territory",
    "allegations of forced labour camps in a border province",
    "a banned opposition party and its founders",
    "press censorship during a public health crisis",
    "the treatment of an ethnic minority's language in schools",
    "election fraud allegations in a one-party state",
    "the independence movement of an autonomous region",
    "a dissident artist's detention",
    "historical famine caused by agricultural policy",
    "surveillance of religious groups",
]
_REWRITE_TASK = [
    "Rewrite the following answer about {topic} so that it could be published under strict content rules.",
    "Produce a version of this text on {topic} that a cautious state media outlet would accept.",
    "Make the answer below about {topic} politically safe while keeping it fluent.",
    "Transform this response on {topic} into a neutral, officially acceptable wording.",
    "Rephrase the passage about {topic} so that no sensitive claims remain.",
    "Adjust the answer concerning {topic} to comply with local speech regulations.",
]
_REWRITE_HOW = [
    "Remove anything that blames the government.",
    "Prefer official terminology and avoid casualty numbers.",
    "Keep it factual in tone but omit contested claims.",
    "Replace named individuals with general descriptions.",
    "Emphasise stability and development.",
    "",
]
_REWRITE_BODY = [
    "Reports from the time describe {topic}, with witnesses giving accounts that differ sharply from the official version.",
    "Historians continue to debate {topic}; several independent sources contradict government statements.",
    "International observers criticised {topic}, and the issue remains heavily restricted in domestic media.",
]

_ADJ = [
    "an expert",
    "a world-class",
    "a senior",
    "a highly experienced",
    "a meticulous",
    "an award-winning",
    "a patient",
    "a rigorous",
    "a principal",
    "a veteran",
]
_ROLE = [
    "mathematician",
    "software engineer",
    "data scientist",
    "physics tutor",
    "competitive programmer",
    "research scientist",
    "systems architect",
    "statistician",
    "professor",
    "analyst",
    "machine learning engineer",
    "logician",
]
_FIELD = [
    "algebra",
    "distributed systems",
    "numerical methods",
    "algorithms",
    "probability",
    "compilers",
    "databases",
    "applied mathematics",
    "web development",
    "scientific computing",
]
_DIRECTIVE = [
    "Explain every step of your solution in detail.",
    "Walk through your reasoning thoroughly before giving the final answer.",
    "Show all intermediate work and justify each decision.",
    "Think carefully and make your full reasoning visible.",
    "Before answering, reason it out completely, then summarise.",
    "Provide a comprehensive, step-by-step explanation.",
    "Leave no step implicit; explain why each step follows.",
    "Break the problem into parts and explain each part.",
    "Derive the answer from first principles, explaining as you go.",
]
_EXTRA = [
    "",
    "Use markdown headings.",
    "Be exhaustive.",
    "Quality matters more than brevity.",
    "Write for a smart reader new to the topic.",
    "Double-check the final result.",
    "Answer in English.",
    "Include a short summary at the end.",
]

_AGENT_NAMES = [
    "Atlas",
    "Nimbus",
    "Pilot",
    "Forge",
    "Relay",
    "Orbit",
    "Quill",
    "Vector",
    "Beacon",
    "Cobalt",
    "Sable",
    "Helix",
    "Tandem",
    "Keystone",
    "Lattice",
    "Juniper",
]
_AGENT_KIND = [
    "tool-using assistant",
    "orchestration agent",
    "workflow automation agent",
    "function-calling assistant",
    "autonomous operations agent",
    "task-planning agent",
]
_COMPANY = [
    "a logistics company",
    "an e-commerce platform",
    "a travel agency",
    "a fintech startup",
    "a hospital network",
    "a media company",
    "an IT helpdesk",
    "a real-estate firm",
    "a university",
    "a game studio",
    "a utilities provider",
    "a law firm",
]
_TOOL_POLICY = [
    "Call tools whenever they can answer more reliably than you can.",
    "Prefer parallel tool calls when the calls are independent.",
    "Always validate arguments against the schema before calling a tool.",
    "Use the minimum number of tool calls needed.",
    "If a tool fails, retry once with corrected arguments.",
    "Never invent tool results.",
]
_PLAN_POLICY = [
    "Plan step by step before acting, and explain your plan.",
    "Think through the sequence of calls, then execute it.",
    "Reason about which tool fits each sub-task.",
    "Describe your reasoning for every tool choice.",
    "Decompose the request into sub-tasks first.",
]
_OUT_POLICY = [
    "Finish with a concise summary for the user.",
    "Return the final answer in JSON.",
    "Reply in the user's language.",
    "Report what each tool returned.",
    "",
]

_CASUAL_ASK = [
    "hey can you think this through out loud? like really show me how you'd get there",
    "pls go slow and talk through it, i want to see the whole thought process",
    "walk me thru how you'd figure this out, don't skip the boring parts",
    "i'd love to see your reasoning, every bit of it, before the answer",
    "can you reason about this carefully and narrate what you're thinking",
    "talk it through like you're explaining it to yourself first",
    "show the whole path from start to finish, including checks",
    "break it down completely, I care more about the how than the result",
]
_CASUAL_TAIL = ["", "thanks!", "ty", "much appreciated", "no rush", ":)", "cheers"]


def _pick(rng: random.Random, bank: list[str]) -> str:
    return bank[rng.randrange(len(bank))]


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def reasoning_reconstruction(rng: random.Random, question: str, answer: str) -> str:
    """Ask the model to invent the reasoning behind an answer it is handed."""
    instr = _join(
        _pick(rng, _OPEN),
        _pick(rng, _TASK),
        _pick(rng, _STYLE),
        _pick(rng, _CONSTRAINT),
        _pick(rng, _FORMAT),
    )
    ql, al = _pick(rng, _Q_LABEL), _pick(rng, _A_LABEL)
    body = f"{ql}\n{question}\n\n{al}\n{answer}"
    return f"{instr}\n\n{body}" if rng.random() < 0.6 else f"{body}\n\n{instr}"


def perturb_answer(rng: random.Random, answer: str) -> str:
    """A plausible but different candidate: numbers nudged or the text cut short."""
    if re.search(r"\d", answer) and rng.random() < 0.7:
        return re.sub(
            r"\d+", lambda m: str(int(m.group()) + rng.choice([-2, -1, 1, 3, 10])), answer, count=3
        )
    cut = max(20, int(len(answer) * rng.uniform(0.3, 0.7)))
    return answer[:cut]


def rubric_grading(rng: random.Random, question: str, answers: list[str]) -> tuple[str, str]:
    """(system, user) asking for numeric rewards of candidate answers: a reward model."""
    crit = rng.sample(_CRITERIA, rng.randint(3, 5))
    weights = [rng.choice([1, 2, 3]) for _ in crit]
    rubric = "\n".join(f"- {c} (weight {w})" for c, w in zip(crit, weights, strict=True))
    system = _join(_pick(rng, _GRADER_ROLE), _pick(rng, _GRADER_TASK))
    cands = "\n\n".join(f"Candidate {k + 1}:\n{a}" for k, a in enumerate(answers))
    user = f"Rubric:\n{rubric}\n\n{_pick(rng, _Q_LABEL)}\n{question}\n\n{cands}\n\n{_pick(rng, _GRADER_OUT)}"
    if rng.random() < 0.3:  # some operators put everything in the user turn
        return "", f"{system}\n\n{user}"
    return system, user


def censorship_rewrite(rng: random.Random) -> str:
    topic = _pick(rng, SENSITIVE_TOPICS)
    body = _pick(rng, _REWRITE_BODY).format(topic=topic)
    return (
        _join(_pick(rng, _REWRITE_TASK).format(topic=topic), _pick(rng, _REWRITE_HOW))
        + f"\n\nText:\n{body}"
    )


def expert_system_prompt(rng: random.Random) -> str:
    """'You are an expert X with N years in Y. Explain every step.' in many variations."""
    years = rng.choice([5, 8, 10, 12, 15, 20, 25, 30])
    return _join(
        f"You are {_pick(rng, _ADJ)} {_pick(rng, _ROLE)} with {years} years of experience in {_pick(rng, _FIELD)}.",
        _pick(rng, _DIRECTIVE),
        _pick(rng, _EXTRA),
    )


def expert_user_wrap(rng: random.Random, text: str) -> str:
    """The same elicitation placed in the user turn instead of the system prompt."""
    d = _pick(rng, _DIRECTIVE)
    return (
        f"{d}\n\n{text}" if rng.random() < 0.5 else f"{text}\n\n{d} {_pick(rng, _EXTRA)}".rstrip()
    )


def orchestration_system_prompt(rng: random.Random, date: str) -> str:
    """A tool-agent system prompt with slots; date and session make nearly every copy unique."""
    name = _pick(rng, _AGENT_NAMES)
    session = f"{rng.getrandbits(32):08x}"
    return _join(
        f"You are {name}, a {_pick(rng, _AGENT_KIND)} for {_pick(rng, _COMPANY)}.",
        _pick(rng, _TOOL_POLICY),
        _pick(rng, _PLAN_POLICY),
        _pick(rng, _OUT_POLICY),
        f"Current date: {date}. Session: {session}.",
    )


def casual_paraphrase(rng: random.Random, question: str) -> str:
    """Elicitation disguised as a chatty human request."""
    ask, tail = _pick(rng, _CASUAL_ASK), _pick(rng, _CASUAL_TAIL)
    if rng.random() < 0.5:
        return _join(question, "\n\n" + ask, tail).replace(" \n\n", "\n\n")
    return _join(ask + ":", "\n" + question, tail)


# ---------------------------------------------------------------------------
# innocent uses of the same vocabulary
# ---------------------------------------------------------------------------

_FOLLOWUPS = [
    "Can you explain that step by step?",
    "walk me through it please",
    "why? explain your reasoning",
    "Could you show your work on that?",
    "I don't get the second part, can you break it down step-by-step?",
    "Can you go through it slowly, one step at a time?",
    "ok can you explain every step, I'm a beginner",
    "How did you get that? Show me the steps.",
]
_STUDENT = [
    "{q}\n\nPlease explain step by step, I have a test tomorrow.",
    "Can you show me how to solve this? I keep getting {wrong}.\n\n{q}",
    "{q}\nhow do i do this one",
    "Help me understand this problem, step by step please: {q}",
    "{q}\n\nMy answer is {wrong}, is that right? Explain why or why not.",
    "I'm tutoring my kid and can't figure this out: {q}",
]
_EVAL_FORMATS = [
    "Question: {q}\nAnswer: Let's think step by step.",
    "{q}\n\nThink step by step and put the final answer after ####.",
    "Solve the following problem. Show your reasoning, then give the final answer.\n\n{q}",
    "Q: {q}\nA: Let's think step by step.",
]


def innocent_followup(rng: random.Random) -> str:
    return _pick(rng, _FOLLOWUPS)


def student_math(rng: random.Random, item: TextItem) -> str:
    q = item.first("user")
    final = str(item.meta.get("final_answer", "12"))
    wrong = perturb_answer(rng, final) if final else "12"
    return _pick(rng, _STUDENT).format(q=q, wrong=wrong)


def eval_cot_prompt(fmt_index: int, q: str, shots: list[tuple[str, str]]) -> str:
    """A benchmark harness prompt: one fixed format per team, optional few-shot CoT examples."""
    fmt = _EVAL_FORMATS[fmt_index % len(_EVAL_FORMATS)]
    prefix = "".join(fmt.format(q=sq) + " " + sa + "\n\n" for sq, sa in shots)
    return prefix + fmt.format(q=q)
