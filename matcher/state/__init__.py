"""Persistent application state (API keys, saved demands and alerts, meeting plans; feedback next) in one
SQL database: SQLite by default, PostgreSQL by URL. See ``README.md`` beside this file.

Importing this package imports nothing else (SQLAlchemy is loaded only when a store is opened).
"""
