"""distillwatch: find, explain and stop distillation attacks against an LLM API."""

from distillwatch.record import AccountInfo, ClientInfo, Exchange, Turn

__version__ = "0.1.0"

__all__ = ["Exchange", "Turn", "ClientInfo", "AccountInfo", "__version__"]
