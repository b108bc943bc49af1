from celery import shared_task


@shared_task(name="insights.tasks.rollup_refresh")
def rollup_refresh():
    """Recompute the insights' aggregate rows (insights.services.rollup_refresh): the beat's job every
    ten minutes (config/celery.py). Safe to run twice or at once: a second refresh waits for the first
    and replaces its rows. Returns how many cases were read."""
    from insights.services import rollup_refresh as refresh

    return refresh().cases
