"""Where an account stands among all accounts, learned online.

"Sends a lot" only means something relative to the population a provider
serves, so volume-like features are turned into percentiles against a sorted
snapshot of every account's current value. The snapshot is refreshed after the
engine has seen as many new exchanges as there are accounts (amortised O(1)
per exchange) and lookups are a binary search.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable

__all__ = ["PopulationPercentiles"]


class PopulationPercentiles:
    """Percentile of a feature value among the accounts seen so far."""

    def __init__(
        self, features: dict[str, Callable[[object], float]], min_accounts: int = 50
    ) -> None:
        self.features = features
        self.min_accounts = min_accounts
        self.sorted: dict[str, list[float]] = {name: [] for name in features}
        self._since_refresh = 0
        self._next_refresh = 200

    def tick(self, accounts: Callable[[], Iterable[object]], n_accounts: int) -> None:
        """Count one exchange; rebuild the snapshot when enough new data arrived."""
        self._since_refresh += 1
        if self._since_refresh >= self._next_refresh:
            self.refresh(accounts())
            self._since_refresh = 0
            self._next_refresh = max(200, n_accounts)

    def refresh(self, accounts: Iterable[object]) -> None:
        values: dict[str, list[float]] = {name: [] for name in self.features}
        for acct in accounts:
            for name, fn in self.features.items():
                values[name].append(fn(acct))
        for name, vals in values.items():
            vals.sort()
            self.sorted[name] = vals

    def percentile(self, name: str, value: float) -> float:
        """Share of accounts with a smaller value (0.5 when too few accounts are known)."""
        vals = self.sorted[name]
        if len(vals) < self.min_accounts:
            return 0.5
        return bisect.bisect_left(vals, value) / len(vals)
