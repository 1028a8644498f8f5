"""The HTTP service: a thin FastAPI face over the ``matcher`` library (see README.md)."""
