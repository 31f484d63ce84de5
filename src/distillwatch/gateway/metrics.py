"""A minimal Prometheus text exposition (format 0.0.4), without a client library.

The gateway needs a handful of counters and one histogram; a dependency for
that is more code to audit than these few lines. Each metric is written by one
thread (the event loop or the recorder thread), so increments need no lock.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

__all__ = ["Counter", "Gauge", "Histogram", "Registry", "GatewayMetrics", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    """A monotonically increasing count, optionally split by labels."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()):
        self.name, self.help, self.labelnames = name, help_text, tuple(labelnames)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def items(self) -> list[tuple[tuple[str, ...], float]]:
        """Every label combination seen, with its count."""
        return list(self._values.items())

    def render(self) -> list[str]:
        out = []
        for labels, value in sorted(self._values.items()):
            out.append(f"{self.name}{_labels(self.labelnames, labels)} {_number(value)}")
        if not self.labelnames and not self._values:
            out.append(f"{self.name} 0")
        return out


class Gauge:
    """A value read at scrape time from a callback (queue depth and the like)."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, read: Callable[[], float]):
        self.name, self.help, self._read = name, help_text, read

    def render(self) -> list[str]:
        return [f"{self.name} {_number(self._read())}"]


class Histogram:
    """Cumulative buckets, sum and count, as Prometheus expects."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float]):
        self.name, self.help = name, help_text
        self.bounds = tuple(sorted(buckets))
        self._counts = [0] * (len(self.bounds) + 1)  # last slot: above every bound
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self._counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def render(self) -> list[str]:
        out, running = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self._counts, strict=True):
            running += count
            out.append(f'{self.name}_bucket{{le="{_number(bound)}"}} {running}')
        out.append(f"{self.name}_sum {_number(self.sum)}")
        out.append(f"{self.name}_count {self.count}")
        return out


class Registry:
    """Metrics in registration order, rendered as one exposition."""

    def __init__(self) -> None:
        self._metrics: list[Counter | Gauge | Histogram] = []

    def add(self, metric: Counter | Gauge | Histogram) -> Counter | Gauge | Histogram:
        self._metrics.append(metric)
        return metric

    def render(self) -> str:
        lines: list[str] = []
        for metric in self._metrics:
            lines.append(f"# HELP {metric.name} {metric.help}")
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"


_LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)


class GatewayMetrics:
    """Every metric the gateway exports, by name."""

    def __init__(self) -> None:
        self.registry = Registry()
        reg = self.registry
        self.requests = reg.add(
            Counter(
                "distillwatch_gateway_requests_total",
                "API requests by route and policy decision.",
                ("route", "decision"),
            )
        )
        self.added_latency = reg.add(
            Histogram(
                "distillwatch_gateway_added_latency_seconds",
                "Time the gateway spends on a request besides waiting for the upstream.",
                _LATENCY_BUCKETS,
            )
        )
        self.upstream_errors = reg.add(
            Counter(
                "distillwatch_gateway_upstream_errors_total",
                "Upstream calls that failed (timeout, connect, body).",
                ("kind",),
            )
        )
        self.engine_errors = reg.add(
            Counter("distillwatch_gateway_engine_errors_total", "Inline assessments that raised.")
        )
        self.client_disconnects = reg.add(
            Counter(
                "distillwatch_gateway_client_disconnects_total",
                "Streams the client left before the end.",
            )
        )
        self.recorded = reg.add(
            Counter("distillwatch_gateway_recorded_total", "Exchanges written by the recorder.")
        )
        self.dropped = reg.add(
            Counter(
                "distillwatch_gateway_recorder_dropped_total",
                "Exchanges not recorded: the recorder queue was full or the engine worker was down.",
            )
        )
        self.worker_restarts = reg.add(
            Counter(
                "distillwatch_gateway_worker_restarts_total",
                "Times the engine worker exited unexpectedly and was started again.",
            )
        )
        self.recorder_errors = reg.add(
            Counter(
                "distillwatch_gateway_recorder_errors_total",
                "Failures while writing or observing recorded exchanges.",
                ("stage",),
            )
        )

    def add_gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.registry.add(Gauge(name, help_text, read))

    def render(self) -> str:
        return self.registry.render()
