"""When requests happen: human rhythms and production API rhythms.

Humans live in a time zone, sleep, work on weekdays, open a session, read the
answer and type the next question. API clients follow the request-rate curve
of a real production client (ServeGen traces, 10-minute windows over 14 days),
scaled to the client's own volume. Attack timing reuses these same models,
with or without jitter, so timing alone separates nothing trivially.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from distillwatch.bench.textsource import RateCurve

__all__ = [
    "poisson",
    "human_session_starts",
    "think_time",
    "curve_arrivals",
    "uniform_arrivals",
    "latency_ms",
    "burst_offsets",
]

_WINDOWS_PER_DAY = 144
_WINDOW_S = 600.0

# hourly weight of starting a session, local time
_CASUAL = [
    0.2,
    0.1,
    0.05,
    0.03,
    0.03,
    0.05,
    0.2,
    0.5,
    0.7,
    0.8,
    0.9,
    1.0,
    1.1,
    1.0,
    0.9,
    0.9,
    1.0,
    1.1,
    1.2,
    1.4,
    1.6,
    1.6,
    1.2,
    0.6,
]
_WORK = [
    0.02,
    0.01,
    0.01,
    0.01,
    0.01,
    0.03,
    0.1,
    0.4,
    1.0,
    1.5,
    1.6,
    1.5,
    1.0,
    1.4,
    1.6,
    1.5,
    1.3,
    1.0,
    0.6,
    0.4,
    0.35,
    0.3,
    0.15,
    0.05,
]
_PROFILES = {"casual": _CASUAL, "work": _WORK}


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, normal approximation for large)."""
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def human_session_starts(
    rng: random.Random,
    day_start: float,
    tz_hours: float,
    sessions_mean: float,
    *,
    profile: str = "casual",
    weekend_factor: float = 1.0,
    weekday: int = 0,
) -> list[float]:
    """UTC start times of a person's sessions on one local day."""
    mean = sessions_mean * (weekend_factor if weekday >= 5 else 1.0)
    n = poisson(rng, mean)
    weights = _PROFILES[profile]
    local_midnight = day_start - tz_hours * 3600.0
    hours = rng.choices(range(24), weights=weights, k=n)
    return sorted(local_midnight + (h + rng.random()) * 3600.0 for h in hours)


def think_time(rng: random.Random, reply_chars: int, next_chars: int) -> float:
    """Seconds between a reply and the person's next message: read, think, type."""
    read = reply_chars / rng.uniform(15.0, 45.0)
    typing = next_chars / rng.uniform(3.0, 7.0)
    pause = rng.lognormvariate(2.3, 0.9)
    return min(1800.0, 2.0 + read * rng.uniform(0.2, 1.0) + typing + pause)


def curve_arrivals(
    rng: random.Random, curve: RateCurve, day: int, daily_mean: float, *, phase: int = 0
) -> list[float]:
    """Offsets (seconds from the day's start) of an API client's requests on one day.

    The client's own volume is ``daily_mean`` requests per day on average over
    the 14 days; the real trace decides how they spread over windows and days.
    ``phase`` shifts the trace so clients sharing a curve do not move in lockstep.
    """
    rates = curve.rates
    total = sum(rates) or 1.0
    per_window = daily_mean * len(rates) / _WINDOWS_PER_DAY / total
    out: list[float] = []
    base = day * _WINDOWS_PER_DAY
    for w in range(_WINDOWS_PER_DAY):
        r = rates[(base + w + phase) % len(rates)]
        if r <= 0:
            continue
        k = poisson(rng, r * per_window)
        start = w * _WINDOW_S
        out.extend(start + rng.random() * _WINDOW_S for _ in range(k))
    out.sort()
    return out


def uniform_arrivals(rng: random.Random, n: int, start: float, end: float) -> list[float]:
    return sorted(rng.uniform(start, end) for _ in range(n))


def latency_ms(rng: random.Random, output_tokens: int, *, reasoning: bool = False) -> float:
    """Time to last byte: queueing + time to first token + decode."""
    ttft = rng.lognormvariate(math.log(450.0), 0.5) * (3.0 if reasoning else 1.0)
    per_token = rng.uniform(9.0, 28.0)
    return round(ttft + output_tokens * per_token, 1)


def burst_offsets(
    rng: random.Random, gaps: Sequence[float], n: int, speed: float = 1.0
) -> list[float]:
    """Offsets of ``n`` back-to-back requests, spaced like a busy real workload."""
    t, out = 0.0, []
    for _ in range(n):
        out.append(t)
        t += max(0.02, gaps[rng.randrange(len(gaps))] / speed) if gaps else rng.expovariate(2.0)
    return out
