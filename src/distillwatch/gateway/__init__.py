"""The inline gateway: an OpenAI- and Anthropic-compatible proxy that logs, scores and enforces."""

from distillwatch.gateway.app import Gateway, create_app
from distillwatch.gateway.config import GatewayConfig, load_config
from distillwatch.gateway.upstream import UpstreamTransport

__all__ = ["create_app", "Gateway", "GatewayConfig", "load_config", "UpstreamTransport"]
