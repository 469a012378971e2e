"""Alembic environment, driven by Flask-Migrate and the app's own engine and metadata.

Logging is left to the application (no fileConfig: it would disable the app's loggers).
"""

import logging

from alembic import context
from flask import current_app

config = context.config
logger = logging.getLogger("alembic.env")
migrate_ext = current_app.extensions["migrate"]
target_db = migrate_ext.db


def get_engine_url() -> str:
    return target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%")


config.set_main_option("sqlalchemy.url", get_engine_url())


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=target_db.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context, revision, directives):
        # Do not write an empty revision when autogenerate finds no change.
        autogenerate = getattr(config.cmd_opts, "autogenerate", False)
        if autogenerate and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(migrate_ext.configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table (copy, drop, rename): with foreign keys on (the app
            # turns them on for every connection), dropping the old table would delete the
            # rows that refer to it with ON DELETE CASCADE. Off for the migration (outside a
            # transaction, where SQLite honours it), checked and back on after.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            before = set(connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall())
            connection.commit()
        context.configure(connection=connection, target_metadata=target_db.metadata,
                          **conf_args)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            # Rows a migration left referring to nothing (rows that already did are not its
            # doing). SQLite applies Alembic's DDL at once: the migration stays applied and the
            # rows are named, to be fixed by hand.
            broken = set(connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall())
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken - before:
                raise RuntimeError("the migration left rows referring to nothing (table, "
                                   f"rowid, parent, fk): {sorted(broken - before)[:10]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
