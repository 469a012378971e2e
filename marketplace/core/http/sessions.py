"""No cookie sessions: the API authenticates every request with a bearer token.

Flask's default interface would verify a signed session cookie on every request (and answer
``Set-Cookie`` when a view wrote to ``flask.session``); this one opens a read-only null session
without looking at cookies, and writing to it raises, so no view can start relying on one.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import NullSession, SessionInterface


class NoSessions(SessionInterface):
    def open_session(self, app: Flask, request) -> NullSession:
        return NullSession()

    def save_session(self, app: Flask, session, response) -> None:
        return None


def init_app(app: Flask) -> None:
    app.session_interface = NoSessions()
