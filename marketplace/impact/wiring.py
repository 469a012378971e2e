"""Wiring of impact: its API."""

from __future__ import annotations

from flask import Flask

from marketplace.impact import models


def register(app: Flask) -> None:
    assert models.CarbonStatement
