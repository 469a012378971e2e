"""CI step: schemathesis against the app's own OpenAPI spec, every operation.

Serves the app (werkzeug, one thread) on a free port over the database of ``DATABASE_URL``
(schema reset and migrated; a temporary SQLite file when unset) and Redis of ``REDIS_URL``
when set, seeds the demo data and a user's and an admin's bearer tokens, then runs
``st run`` with NUL bytes allowed in generated strings, positive and negative data, a
bounded number of examples per operation and a time budget; every other request also gets a
NUL inserted into one of its strings (``.ci/fuzz_hooks.py``). Checks: no server error, status
codes, content types, response headers and bodies as the spec documents them. Exits non-zero
on any failure.

    python .ci/fuzz.py [--max-examples N] [--max-time SECONDS] [--seed N]
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import text  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from marketplace import seeds  # noqa: E402
from marketplace.accounts import services as accounts  # noqa: E402
from marketplace.app import create_app  # noqa: E402
from marketplace.core.db import db  # noqa: E402

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")


def _reset(app) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        seeds.run(lambda _line: None)
        user, _ = accounts.create_or_promote_admin("fuzz-admin@reloop.test", "fuzz-password-1")
        admin_token = accounts.issue_token(user)[0]
        member = accounts.register("fuzz-user@reloop.test", "fuzz-password-2", "Fuzz")
        user_token = accounts.issue_token(member)[0]
        db.session.commit()
    return admin_token, user_token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=12)
    parser.add_argument("--max-time", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    # The coverage phase (boundary values of every parameter) takes most of a short budget
    # and never sends a NUL; the fuzzing phase with the hooks does (a 60 s fuzzing run on the
    # code before the hardening found the 500s of search, registration, login and listings).
    parser.add_argument("--phases", default="examples,fuzzing")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="reloop-fuzz-")
    config = {"SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(16),
              "RATELIMIT_ENABLED": False, "LOG_LEVEL": "CRITICAL", "STRIPE_API_KEY": None,
              "STRIPE_WEBHOOK_SECRET": "whsec_fuzz",
              # The single-threaded server must not be held by an event stream for minutes.
              "STREAM_MAX_SECONDS": 5}
    if not os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp}/fuzz.sqlite3"
    app = create_app(config)
    admin_token, user_token = _reset(app)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    def run(token: str, max_time: int, *selection: str) -> int:
        command = [
            str(Path(sys.executable).with_name("st")), "run",
            f"http://127.0.0.1:{port}/api/openapi.json",
            "--checks", CHECKS, "--generation-allow-x00", "true",
            "--max-examples", str(args.max_examples), "--max-time", str(max_time),
            "--phases", args.phases, "--workers", "1", "--no-shrink",
            "--generation-database", "none", "--request-timeout", "30",
            "--suppress-health-check", "all", "--no-color", *selection,
            "-H", f"Authorization: Bearer {token}",
        ]
        if args.seed is not None:
            command += ["--seed", str(args.seed)]
        shown = [c if not c.startswith("Authorization") else "Authorization: ..."
                 for c in command[1:]]
        print("schemathesis:", " ".join(shown), flush=True)
        env = {**os.environ, "SCHEMATHESIS_HOOKS": str(ROOT / ".ci" / "fuzz_hooks.py")}
        return subprocess.run(command, cwd=tmp, env=env, timeout=max_time + 120).returncode

    # Logging out, revoking sessions, changing the password and deleting one's account end
    # the session every other request uses: those paths are run last, alone, with the plain
    # user's token. Everything else runs as the admin (who may call every user operation too).
    own = r"^/api/v1/(auth/tokens/current|users/me(/sessions(/[^/]+)?|/password)?)$"
    try:
        first = run(admin_token, args.max_time, "--exclude-path-regex", own)
        second = run(user_token, 20, "--include-path-regex", own)
    finally:
        server.shutdown()
    return first or second


if __name__ == "__main__":
    sys.exit(main())
