from celery import shared_task


@shared_task(name="workflows.brukerplan.tasks.round_report_compute")
def round_report_compute(round_id: int):
    """Compute a closed round's report (services.report_build), enqueued by round_close after its
    commit, by report_recompute, and again by reports_requeue. Safe to run twice: a report done, or
    being computed by a live worker, is left alone (services.report_build)."""
    from referrals.models import BrukerPlanRound
    from workflows.brukerplan.services import report_build

    round_ = BrukerPlanRound.objects.filter(pk=round_id, status=BrukerPlanRound.Status.CLOSED).first()
    if round_ is not None:
        report_build(round_)


@shared_task(name="workflows.brukerplan.tasks.reports_requeue")
def reports_requeue():
    """The beat's job each minute (config/celery.py): enqueue again every report whose computation
    looks lost (services.report_requeue_due), so a lost message or a killed worker delays a report
    and never loses it. Returns how many were enqueued."""
    from workflows.brukerplan.services import report_requeue_due

    return report_requeue_due()
