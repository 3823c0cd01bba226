"""The ``wangge`` command line."""

from api.cli.main import app, main

__all__ = ["app", "main"]
