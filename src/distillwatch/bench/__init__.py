"""distillbench: labelled, realistic traffic and the metrics that judge detection."""

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
