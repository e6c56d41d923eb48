"""The HTTP service: an OpenAI-compatible API, Tandem's own endpoints and the web chat page."""

from tandem.server.app import create_app

__all__ = ["create_app"]
