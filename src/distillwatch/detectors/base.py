"""Detector protocol, signals and the registry that holds them.

A content detector looks at one :class:`~distillwatch.record.Exchange` and
returns :class:`Signal` objects. Adding a technique is one module that defines a
class with ``name``, ``version``, ``signals`` and ``detect`` and decorates it
with :func:`register`, plus one test file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from distillwatch.record import Exchange

__all__ = [
    "Signal",
    "Detector",
    "DetectorRegistry",
    "register",
    "default_registry",
    "load_detector_config",
    "detector_config",
]


@dataclass(slots=True, frozen=True)
class Signal:
    """One piece of evidence.

    ``score`` is in 0..1 and means "how strongly this exchange shows the named
    behaviour", not "how likely the account is an attacker": fusion decides that
    with account and campaign context. ``detail`` quotes what was matched so an
    analyst can find it in the raw log. ``capability`` names what the request
    was extracting (``reasoning``, ``reward_grading``, ``tool_use``, ...).
    """

    name: str
    score: float
    detail: str
    capability: str | None = None


@runtime_checkable
class Detector(Protocol):
    """What the engine needs from a content detector."""

    name: ClassVar[str]
    version: ClassVar[str]
    signals: ClassVar[tuple[str, ...]]  # names of the signals it can emit

    def detect(self, exchange: Exchange) -> list[Signal]:
        """Signals for one exchange; an empty list when nothing is seen."""
        ...


DetectorFactory = Callable[..., Detector]


class DetectorRegistry:
    """Named detector classes, instantiated with per-detector configuration."""

    def __init__(self) -> None:
        self._factories: dict[str, DetectorFactory] = {}

    def add(self, factory: DetectorFactory) -> DetectorFactory:
        name = getattr(factory, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"detector {factory!r} has no name")
        if name in self._factories and self._factories[name] is not factory:
            raise ValueError(f"a detector named {name!r} is already registered")
        self._factories[name] = factory
        return factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def get(self, name: str) -> DetectorFactory:
        return self._factories[name]

    def build(self, config: Mapping[str, Mapping[str, Any]] | None = None) -> list[Detector]:
        """Instantiate every enabled detector; ``config[name]`` holds its options.

        ``{"enabled": false}`` switches a detector off; any other key is passed
        to its constructor, so a misspelt option fails loudly.
        """
        config = config or {}
        unknown = set(config) - set(self._factories)
        if unknown:
            raise ValueError(f"configuration names unknown detectors: {sorted(unknown)}")
        out: list[Detector] = []
        for name in self.names():
            opts = dict(config.get(name, {}))
            if not opts.pop("enabled", True):
                continue
            out.append(self._factories[name](**opts))
        return out


_DEFAULT = DetectorRegistry()


def register(factory: DetectorFactory) -> DetectorFactory:
    """Class decorator: add a detector to the default registry."""
    return _DEFAULT.add(factory)


def default_registry() -> DetectorRegistry:
    """The registry with every built-in content detector loaded."""
    import distillwatch.detectors.content  # noqa: F401  (registers on import)

    return _DEFAULT


def load_detector_config(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """Read ``[detectors.<name>]`` tables from a TOML file (empty when no path)."""
    if path is None:
        return {}
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    try:
        return detector_config(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def detector_config(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``[detectors.<name>]`` tables of an already parsed TOML document."""
    section = data.get("detectors", {})
    if not isinstance(section, dict):
        raise ValueError("[detectors] must be a table")
    for name, options in section.items():
        if not isinstance(options, dict):
            raise ValueError(f"[detectors.{name}] must be a table of options")
    return {str(k): dict(v) for k, v in section.items()}


def run_detectors(detectors: Iterable[Detector], exchange: Exchange) -> list[Signal]:
    """All signals of all detectors for one exchange."""
    out: list[Signal] = []
    for det in detectors:
        out.extend(det.detect(exchange))
    return out
