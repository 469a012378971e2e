"""``flask carbon reestimate``: re-estimate active listings after a methodology change;
``flask search-bounds``: recompute the words' sort bounds of text + sort searches."""

from __future__ import annotations

import click
from flask import current_app

from marketplace.core import jobs
from marketplace.listings import services, term_bounds


def enqueue_reestimation(include_current: bool = False, batch_size: int | None = None
                         ) -> tuple[int, int]:
    """Enqueue one ``services.reestimate`` job per batch of active listing ids whose
    methodology version is not the current one (all of them with ``include_current``).
    Returns (listings, jobs). Trades are untouched: they keep the figure they were made with.
    """
    size = batch_size or current_app.config["REESTIMATE_BATCH_SIZE"]
    ids = services.stale_listing_ids(include_current)
    count = 0
    for start in range(0, len(ids), size):
        jobs.enqueue(services.reestimate, ids[start:start + size], queue="default", timeout=900)
        count += 1
    return len(ids), count


@click.command("reestimate")
@click.option("--all", "include_current", is_flag=True,
              help="Also listings already estimated with the current methodology.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=None,
              help="Listings per job (default: $REESTIMATE_BATCH_SIZE).")
def reestimate(include_current: bool, batch_size: int | None) -> None:
    """Re-estimate active listings in background jobs, in batches."""
    count, job_count = enqueue_reestimation(include_current, batch_size)
    click.echo(f"enqueued {count} listing(s) in {job_count} job(s)")


@click.command("search-bounds")
def search_bounds() -> None:
    """Recompute search_term_bounds exactly (they only widen between runs; e.g. weekly)."""
    click.echo(f"{term_bounds.rebuild_now()} word bound(s)")
