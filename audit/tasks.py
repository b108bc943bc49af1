from celery import shared_task


@shared_task(name="audit.tasks.rollup_reads")
def rollup_reads():
    """Roll the access log's new reads up for the access review (audit/rollup.py): the beat's job each
    minute. A run that finds another still rolling up ends at once; each batch is its own transaction,
    so a run stopped midway leaves the watermark where its last batch put it."""
    from audit.rollup import reads_rollup

    return reads_rollup()
