"""distillbench: labelled, realistic traffic and the metrics that judge detection.

    from distillwatch.bench import BuiltinSource, CorporaSource, generate
    generate("bench/", source=CorporaSource("../shared/corpora"), scale=1.0, seed=0)
    # -> bench/exchanges.jsonl (exchange-log v1) and bench/labels.jsonl (ground truth)

Score a scan with :func:`distillwatch.bench.score.score`; compare with the
baselines in :mod:`distillwatch.bench.baselines`; or run everything with
``distillwatch bench run``.
"""

from distillwatch.bench.generate import GenerateResult, generate, iter_exchanges
from distillwatch.bench.textsource import BuiltinSource, CorporaSource, TextSource

__all__ = [
    "generate",
    "iter_exchanges",
    "GenerateResult",
    "TextSource",
    "CorporaSource",
    "BuiltinSource",
]
