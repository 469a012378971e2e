"""The baseline of ``bench/api_http.py``: a Flask hello-world served by the same gunicorn config."""

from flask import Flask

app = Flask("hello")


@app.get("/")
def hello():
    return {"status": "ok"}
