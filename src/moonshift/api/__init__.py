"""The REST API: a face over ``moonshift.app`` on FastAPI. ``create_app(settings)`` builds it;
``moonshift serve`` runs it on uvicorn."""

from moonshift.api.factory import create_app

__all__ = ["create_app"]
