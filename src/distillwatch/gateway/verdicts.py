"""The inline assessment when the engine lives in another process.

``distillwatch serve`` runs the engine (``observe``), the store and the JSONL
log in a worker process, so that the serving process never waits for the GIL
while they work. What the inline decision needs from the engine's state is
small and changes only when an exchange is observed: the account's verdict,
its campaign's risk, and which prompt families are flagged. The worker
publishes exactly that after each batch, and :class:`PublishedVerdicts`
answers ``assess`` from it in the serving process, running the content
detectors on the request itself (a pure function of the request).

Two differences from ``Engine.assess`` in the same process, both bounded:

* the state is as of the last batch the worker finished (the recorder's flush
  interval plus the batch's processing time), as it already was for the
  in-process recorder thread; a campaign's risk is published per campaign, so
  any member's new exchange updates it for every member;
* a request is in a flagged prompt family when one of its sentences anchors
  a flagged family. The engine's own check names the prompt's most frequent
  sentence first and may then call it another, unflagged family: published
  here are the flagged families only, so a request that also carries a more
  common sentence is flagged here and not there. Unflagged family ids are not
  known inline (the log's per-exchange ``family_id`` is written by the worker,
  from ``observe``, as ``scan`` writes it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from distillwatch.campaign.families import FamilyIndex
from distillwatch.detectors.base import Detector, Signal
from distillwatch.engine import AccountVerdict, Assessment, extraction_score
from distillwatch.record import Exchange

__all__ = ["PublishedVerdicts", "publishable"]

_PREFIXES = ("tpl_", "sys_")


def publishable(account: AccountVerdict | None) -> bool:
    """Worth sending to the serving process: anything that could switch a policy trigger on.

    A benign account with risk 0 and no campaign decides nothing, and leaving
    it out keeps the serving process's memory to the accounts that matter.
    """
    return account is not None and (
        account.verdict != "benign" or account.risk > 0.0 or account.campaign_id is not None
    )


class PublishedVerdicts:
    """The engine state the worker last published, and ``assess`` built on it (event loop only)."""

    def __init__(self, detectors: Sequence[Detector] = ()):
        self.detectors = list(detectors)
        self.accounts: dict[str, AccountVerdict] = {}
        self.campaign_risk: dict[str, float] = {}
        self.flagged_families: dict[str, float] = {}
        # the engine's own miners (same settings), holding only the anchors of flagged families
        miners = FamilyIndex(capacity=1)
        self._prompt = miners.prompt_miner
        self._system = miners.system_miner
        self._prompt.counts = {}
        self._system.counts = {}

    def apply(self, update: Mapping[str, Any]) -> None:
        """Fold one published update in: ``accounts`` (None removes), ``campaigns``, ``families``."""
        for account_id, verdict in update.get("accounts", {}).items():
            if verdict is None:
                self.accounts.pop(account_id, None)
            else:
                self.accounts[account_id] = verdict
        self.campaign_risk.update(update.get("campaigns", {}))
        for family_id, risk in update.get("families", {}).items():
            miner, anchor = self._anchor(family_id)
            if risk is None:
                self.flagged_families.pop(family_id, None)
                if miner is not None:
                    miner.counts.pop(anchor, None)
            else:
                self.flagged_families[family_id] = risk
                if miner is not None:
                    miner.counts[anchor] = 1

    def _anchor(self, family_id: str) -> tuple[Any, int]:
        """The miner and sentence hash a family id (``tpl_%08x`` / ``sys_%08x``) stands for."""
        prefix = family_id[:4]
        if prefix not in _PREFIXES:
            return None, 0
        try:
            anchor = int(family_id[4:], 16)
        except ValueError:
            return None, 0
        return (self._prompt if prefix == "tpl_" else self._system), anchor

    def family(self, ex: Exchange) -> tuple[str | None, bool]:
        """``(family_id, True)`` when the request is in a flagged family, else ``(None, False)``."""
        if self._prompt.counts:
            text = ex.last_user_text
            anchor = self._prompt.peek(text) if text else None
            if anchor is not None:
                return f"tpl_{anchor:08x}", True
        if self._system.counts and ex.system:
            anchor = self._system.peek(ex.system)
            if anchor is not None:
                return f"sys_{anchor:08x}", True
        return None, False

    def assess(self, ex: Exchange) -> Assessment:
        """What ``Engine.assess`` answers, from the request and the published state."""
        signals: list[Signal] = []
        for detector in self.detectors:
            signals.extend(detector.detect(ex))
        account = self.accounts.get(ex.account_id)
        campaign_id = account.campaign_id if account is not None else None
        campaign_risk = self.campaign_risk.get(campaign_id, 0.0) if campaign_id else 0.0
        family_id, flagged = self.family(ex)
        return Assessment(
            signals,
            extraction_score(signals),
            account,
            family_id,
            flagged,
            campaign_id,
            campaign_risk,
        )
