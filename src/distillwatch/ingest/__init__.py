"""The input side: exchange-log files in, canonical :class:`Exchange` records out.

``reader`` gets raw lines out of any supported container, ``parse`` turns one
line into an Exchange, ``order`` merges many files into one time-ordered stream.
"""

from distillwatch.ingest.order import ExchangeStream
from distillwatch.ingest.parse import RecordError, parse_line, parse_record, parse_ts, to_rfc3339
from distillwatch.ingest.reader import Rejection, iter_raw

__all__ = [
    "ExchangeStream",
    "RecordError",
    "Rejection",
    "iter_raw",
    "parse_line",
    "parse_record",
    "parse_ts",
    "to_rfc3339",
]
