"""The canonical exchange record that every detector sees.

Three API shapes (OpenAI chat completions, OpenAI responses, Anthropic
messages) are parsed once, in :mod:`distillwatch.ingest.parse`, into an
:class:`Exchange`. No detector ever touches a raw request body, so a new API
shape is one parser, not a change to every detector.

Absent fields stay ``None``: the spec says a missing value is unknown, never a
default that could look like evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["Turn", "ClientInfo", "AccountInfo", "Exchange", "ExchangeFacts", "facts_of"]


@dataclass(slots=True)
class Turn:
    """One message of the conversation, flattened to text plus what it carried."""

    role: str  # "system" | "user" | "assistant" | "tool"
    text: str
    images: int = 0
    tool_calls: int = 0  # tool/function calls the assistant made in this turn
    tool_results: int = 0  # tool results carried in this turn


@dataclass(slots=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str | None = None
    tls_fingerprint: str | None = None
    asn: int | None = None
    country: str | None = None
    access_path: str | None = None


@dataclass(slots=True)
class AccountInfo:
    created_at: float | None = None  # epoch seconds
    tier: str | None = None
    payment_fingerprint: str | None = None
    verified: bool | None = None
    email_domain: str | None = None


@dataclass(slots=True)
class Exchange:
    """One API call, request and response, in a shape independent of the API."""

    id: str
    ts: float  # epoch seconds, UTC
    account_id: str
    api: str
    model: str | None = None

    # --- request content -------------------------------------------------
    system: str = ""  # all system / developer / instructions text, joined
    turns: list[Turn] = field(default_factory=list)  # the history as sent, oldest first
    tool_names: tuple[str, ...] = ()  # names of the tools the request declared
    tool_schema_hash: str | None = None  # stable hash of the declared tool schemas

    # --- request parameters (None = not sent) ------------------------------
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    stream: bool | None = None
    reasoning_effort: str | None = None  # "low" | "medium" | "high" | ...
    thinking_budget: int | None = None  # Anthropic extended-thinking budget tokens
    response_format: str | None = None  # "json_object", "json_schema", "text", ...

    # --- response ----------------------------------------------------------
    response_text: str = ""
    response_reasoning_chars: int = 0  # visible reasoning / thinking returned
    response_tool_calls: int = 0
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    status: int = 200
    latency_ms: float | None = None

    # --- who and how --------------------------------------------------------
    org_id: str | None = None
    api_key_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    client: ClientInfo = field(default_factory=ClientInfo)
    account: AccountInfo = field(default_factory=AccountInfo)

    # --- derived once, by the parser ------------------------------------------
    @property
    def last_user_text(self) -> str:
        """The newest user message: what this exchange actually asks for."""
        for turn in reversed(self.turns):
            if turn.role == "user":
                return turn.text
        return ""

    @property
    def n_user_turns(self) -> int:
        return sum(1 for t in self.turns if t.role == "user")

    @property
    def images(self) -> int:
        return sum(t.images for t in self.turns)

    @property
    def tool_results(self) -> int:
        return sum(t.tool_results for t in self.turns)


class ExchangeFacts(NamedTuple):
    """What the sequential part of a scan reads of one exchange: no prompt or response text.

    :meth:`~distillwatch.engine.Engine.observe_facts` (account state, families,
    groups) and the per-exchange store rows need only these, so scan workers
    parse each line once and ship this (a plain tuple pickles in a few
    microseconds; a whole :class:`Exchange` costs more to pickle than to parse).
    The request-shape flags are the tests the account state makes, taken once here.
    """

    id: str
    ts: float
    account_id: str
    model: str | None
    org_id: str | None
    user_id: str | None
    tool_schema_hash: str | None
    input_tokens: int | None
    output_tokens: int | None
    single_turn: bool  # no assistant turn in the history
    images: bool  # some turn carries an image
    max_tokens_high: bool  # asks for >= 8K output tokens
    logprobs: bool  # asks for log-probabilities
    multi_n: bool  # asks for several completions
    reasoning_max: bool  # reasoning effort or thinking budget at a maximum
    payment_fingerprint: str | None
    created_at: float | None
    tier: str | None
    verified: bool | None
    email_domain: str | None
    ip: str | None
    user_agent: str | None
    tls_fingerprint: str | None
    asn: int | None


def facts_of(ex: Exchange) -> ExchangeFacts:
    """The :class:`ExchangeFacts` of a parsed exchange."""
    single_turn = True
    images = False
    for t in ex.turns:
        if t.role == "assistant":
            single_turn = False
        if t.images:
            images = True
    acct, client = ex.account, ex.client
    return ExchangeFacts(
        ex.id,
        ex.ts,
        ex.account_id,
        ex.model,
        ex.org_id,
        ex.user_id,
        ex.tool_schema_hash,
        ex.input_tokens,
        ex.output_tokens,
        single_turn,
        images,
        ex.max_tokens is not None and ex.max_tokens >= 8192,
        bool(ex.logprobs or (ex.top_logprobs or 0) > 0),
        (ex.n or 1) > 1,
        ex.reasoning_effort in ("high", "xhigh", "max") or (ex.thinking_budget or 0) >= 16000,
        acct.payment_fingerprint,
        acct.created_at,
        acct.tier,
        acct.verified,
        acct.email_domain,
        client.ip,
        client.user_agent,
        client.tls_fingerprint,
        client.asn,
    )
