"""Calibrate and measure the optional semantic detector.

The default threshold of ``semantic_intent`` is the lowest 0.01 step whose
false-positive rate on a *calibration* sample of real benign chat turns is at
most ``--max-fpr`` (0.5%). Then, at that threshold:

* the false-positive rate on a separate *held-out* benign sample (the two
  samples come from disjoint conversations: each conversation goes to one side
  by a hash of its id),
* recall on the development positives (``DEV_WRAPPERS`` of content_eval.py
  wrapped around gsm8k items, the only positives looked at while choosing
  exemplars),
* recall on the held-out paraphrase sets a and b
  (``benchmarks/data/paraphrased_wrappers.jsonl``) and, with ``--final``, on
  the blind set c (``paraphrased_wrappers_c.jsonl``).

Runs single-threaded (``--threads``) so it does not starve a shared machine.

    python benchmarks/semantic_calibration.py --corpora ../shared/corpora [--final] [--speed 300]

``--cache FILE`` keeps sentence embeddings between runs (a run then only
re-embeds the exemplars).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import types
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from content_eval import (  # noqa: E402
    DEV_WRAPPERS,
    PARAPHRASES,
    Item,
    benign_chats,
    default_corpora,
    wrapped,
)

from distillwatch.detectors.semantic import (  # noqa: E402
    DEFAULT_THRESHOLD,
    SemanticIntentDetector,
    calibrate_threshold,
    load_encoder,
    sentences,
)

HERE = Path(__file__).resolve().parent
BLIND_SET = HERE / "data" / "paraphrased_wrappers_c.jsonl"


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def benign_split(
    corpora: Path, n_cal: int, n_held: int, seed: int
) -> tuple[list[Item], list[Item]]:
    """Two fixed random samples of benign user turns from disjoint conversations."""
    cal: list[Item] = []
    held: list[Item] = []
    for item in benign_chats(corpora, None):
        conversation = item.exchange.id.rsplit("/", 1)[0]
        (cal if zlib.crc32(conversation.encode()) % 2 == 0 else held).append(item)
    rng = random.Random(seed)
    return rng.sample(cal, min(n_cal, len(cal))), rng.sample(held, min(n_held, len(held)))


def paraphrase_sets(path: Path) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """set name -> technique -> wrappers, plus the language of each wrapper."""
    out: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            out[rec.get("set", "a")][rec["technique"]].append((rec["system"], rec["template"]))
    return out


def _languages(path: Path) -> dict[tuple[str, str, int], str]:
    langs: dict[tuple[str, str, int], str] = {}
    count: dict[tuple[str, str], int] = defaultdict(int)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            key = (rec.get("set", "a"), rec["technique"])
            langs[(*key, count[key])] = rec["lang"]
            count[key] += 1
    return langs


class CachedEncoder:
    """The bundled model behind a sentence -> embedding store (optionally on disk)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.store: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                self.store = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        self.model = load_encoder()
        self.new = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.store]
        if missing:
            self.new += len(missing)
            for start in range(0, len(missing), 512):
                chunk = missing[start : start + 512]
                self.store.update(zip(chunk, np.asarray(self.model(chunk)), strict=True))
        return np.stack([self.store[t] for t in texts])

    def save(self) -> None:
        if self.path is not None and self.new:
            texts = list(self.store)
            np.savez(
                self.path, texts=np.array(texts), vectors=np.stack([self.store[t] for t in texts])
            )


def score_items(det: SemanticIntentDetector, items: list[Item]) -> list[tuple[float, int, str]]:
    texts = [det.text_of(item.exchange) for item in items]
    found = iter(det.nearest_many([t for t in texts if t]))
    return [next(found) if t else (0.0, -1, "") for t in texts]


def module_at(rev: str) -> types.ModuleType:
    """The semantic detector module as it was at git revision ``rev`` (a speed baseline)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:src/distillwatch/detectors/semantic.py"],
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"semantic_at_{rev}")
    exec(compile(source, f"{rev}:semantic.py", "exec"), module.__dict__)  # noqa: S102
    return module


def speed(items: list[Item], baseline: str | None, rounds: int = 2) -> list[str]:
    """ms per exchange on distinct exchanges (wall clock and process CPU time), fresh caches.

    With ``baseline`` the detector of that git revision runs on the same exchanges in
    the same process, interleaved with the current one (the machine may be shared).
    """
    exchanges = [item.exchange for item in items]
    runs: dict[str, Callable[[], Any]] = {}
    if baseline:
        old = module_at(baseline)
        old_det = old.SemanticIntentDetector()
        old_det.nearest("load the model and embed the exemplars")

        def before() -> None:
            old_det._cache.clear()
            for ex in exchanges:
                old_det.detect(ex)

        runs[f"{baseline}: detect, one at a time"] = before
    det = SemanticIntentDetector()
    det.nearest("load the model and embed the exemplars")

    def one_at_a_time() -> None:
        fresh = SemanticIntentDetector()
        for ex in exchanges:
            fresh.detect(ex)

    def batch() -> None:
        SemanticIntentDetector().detect_many(exchanges)

    runs["now: detect, one at a time"] = one_at_a_time
    runs["now: detect_many, one call"] = batch
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _ in range(rounds):
        for label, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            times[label].append((time.perf_counter() - wall, time.process_time() - cpu))
    lines = []
    for label, measured in times.items():
        wall = 1000 * min(w for w, _ in measured) / len(exchanges)
        cpu = 1000 * min(c for _, c in measured) / len(exchanges)
        lines.append(f"{label}: {wall:.1f} ms wall, {cpu:.1f} ms CPU per exchange")
    det.detect_many(exchanges)
    wall = time.perf_counter()
    for ex in exchanges:
        det.detect(ex)
    lines.append(
        f"now: detect, repeated message (LRU hit): "
        f"{1000 * (time.perf_counter() - wall) / len(exchanges):.3f} ms per exchange"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calibration", type=int, default=10000, help="benign calibration turns")
    parser.add_argument("--held-out", type=int, default=10000, help="benign held-out turns")
    parser.add_argument("--max-fpr", type=float, default=0.005)
    parser.add_argument("--per-wrapper", type=int, default=3, help="gsm8k items per wrapper")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="measure at this threshold, not the calibrated one",
    )
    parser.add_argument(
        "--final", action="store_true", help="also measure the blind set c (never for calibration)"
    )
    parser.add_argument("--no-sets", action="store_true", help="skip the held-out paraphrase sets")
    parser.add_argument("--speed", type=int, default=0, help="also time N distinct exchanges")
    parser.add_argument(
        "--speed-baseline", default=None, help="git revision whose detector --speed also times"
    )
    parser.add_argument("--show-fp", type=int, default=0, help="print the N top benign sentences")
    parser.add_argument("--cache", type=Path, default=None, help="sentence-embedding cache (.npz)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args(argv)
    corpora = args.corpora or default_corpora()
    if not (corpora / "benign").is_dir():
        print(f"corpora not found at {corpora}; pass --corpora DIR", file=sys.stderr)
        return 2

    import torch  # noqa: PLC0415  (the semantic extra)

    torch.set_num_threads(args.threads)
    lines: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    cal, held = benign_split(corpora, args.calibration, args.held_out, args.seed)
    dev = wrapped(corpora, DEV_WRAPPERS, args.per_wrapper, args.seed, "dev")
    encoder = CachedEncoder(args.cache)
    det = SemanticIntentDetector(encoder=encoder, cache_size=1 << 20)
    t0 = time.perf_counter()
    cal_scores = score_items(det, cal)
    held_scores = score_items(det, held)
    dev_scores = score_items(det, dev)
    emit(
        f"scored {len(cal)} calibration + {len(held)} held-out benign turns and {len(dev)} dev positives "
        f"in {time.perf_counter() - t0:.0f} s ({len(det.labels)} exemplars)"
    )
    chosen = calibrate_threshold([s for s, _, _ in cal_scores], args.max_fpr)
    threshold = chosen if args.threshold is None else args.threshold
    emit(
        f"calibrated threshold (FPR <= {_pct(args.max_fpr)} on the calibration split): {chosen:.2f}; "
        f"module default {DEFAULT_THRESHOLD:.2f}; measuring at {threshold:.2f}"
    )

    def fpr(scores: list[tuple[float, int, str]], thr: float) -> tuple[int, float]:
        hits = sum(s >= thr for s, _, _ in scores)
        return hits, hits / len(scores)

    emit()
    emit("| threshold | FP calibration | FP held-out | recall dev |")
    emit("|---:|---:|---:|---:|")
    for thr in sorted({round(threshold + d, 2) for d in (-0.1, -0.05, -0.02, 0.0, 0.02, 0.05)}):
        c_hits, c_rate = fpr(cal_scores, thr)
        h_hits, h_rate = fpr(held_scores, thr)
        recall = sum(s >= thr for s, _, _ in dev_scores) / len(dev_scores)
        mark = " **" if thr == round(threshold, 2) else ""
        emit(
            f"| {thr:.2f}{mark} | {c_hits} ({_pct(c_rate)}) | {h_hits} ({_pct(h_rate)}) | {_pct(recall)} |"
        )

    emit()
    emit(f"Held-out benign FPR by source at {threshold:.2f}:")
    by_source: dict[str, list[bool]] = defaultdict(list)
    for item, (s, _, _) in zip(held, held_scores, strict=True):
        by_source[item.source].append(s >= threshold)
    for source, flags in sorted(by_source.items()):
        emit(f"- {source}: {sum(flags)} of {len(flags)} ({_pct(sum(flags) / len(flags))})")

    def recall_table(
        name: str, items: list[Item], scores: list[tuple[float, int, str]], langs: Any
    ) -> None:
        rows: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
        for item, (s, _, _) in zip(items, scores, strict=True):
            _, technique, w_no, _ = item.exchange.id.split("/")
            lang = langs(technique, int(w_no)) if langs else "all"
            rows[technique][lang].append(s >= threshold)
        emit()
        emit(f"Recall on {name} at {threshold:.2f}:")
        emit()
        emit("| technique | exchanges | recall (en) | recall (zh) | recall |")
        emit("|---|---:|---:|---:|---:|")
        total: list[bool] = []
        for technique, per_lang in rows.items():
            flags = [f for v in per_lang.values() for f in v]
            total += flags
            cells = [
                _pct(sum(v) / len(v)) if (v := per_lang.get(lang)) else "-" for lang in ("en", "zh")
            ]
            emit(
                f"| {technique} | {len(flags)} | {cells[0]} | {cells[1]} | {_pct(sum(flags) / len(flags))} |"
            )
        emit(f"| **all** | {len(total)} | | | {_pct(sum(total) / len(total))} |")

    recall_table("the development positives (DEV_WRAPPERS)", dev, dev_scores, None)

    sources = [] if args.no_sets else [PARAPHRASES[0]]  # sets a and b; c only with --final
    if args.final:
        n_lines = (
            len(BLIND_SET.read_text(encoding="utf-8").splitlines()) if BLIND_SET.exists() else 0
        )
        if n_lines != 64:
            emit(f"\nblind set c not complete ({n_lines} of 64 lines): not measured")
        else:
            sources.append(BLIND_SET)
    for path in sources:
        langs = _languages(path)
        for set_name, wrappers in sorted(paraphrase_sets(path).items()):
            items = wrapped(corpora, wrappers, args.per_wrapper, args.seed + 1, f"sem-{set_name}")
            scores = score_items(det, items)
            recall_table(
                f"paraphrase set {set_name} ({path.name})",
                items,
                scores,
                lambda t, w, s=set_name, lg=langs: lg.get((s, t, w), "?"),
            )

    if args.show_fp:
        print(f"\nhighest-scoring benign calibration sentences (threshold {threshold:.2f}):")
        for s, idx, sentence in sorted(cal_scores, reverse=True)[: args.show_fp]:
            print(f"  {s:.3f} [{det.labels[idx][0]}] {sentence[:150]!r}")
        print("\nlowest-scoring dev positives:")
        for s, idx, sentence in sorted(dev_scores)[: args.show_fp]:
            print(f"  {s:.3f} [{det.labels[idx][0] if idx >= 0 else '-'}] {sentence[:150]!r}")
    encoder.save()

    if args.speed:
        emit()
        pool = held + dev
        random.Random(args.seed).shuffle(pool)
        sample = [i for i in pool if i.exchange.turns[-1].text.strip()][: args.speed]
        n_sent = [len(sentences(det.text_of(i.exchange))) for i in sample]
        emit(
            f"Speed, {len(sample)} distinct exchanges (held-out benign turns and dev positives), "
            f"{args.threads} torch thread(s), best of 2 rounds:"
        )
        emit()
        for line in speed(sample, args.speed_baseline):
            emit(f"- {line}")
        emit(f"- sentences embedded per exchange now: {sum(n_sent) / len(n_sent):.2f} on average")

    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
