"""ASGI entry point for uvicorn and the Docker image: ``uvicorn api.asgi:app``."""

from api.app import create_app

app = create_app()
