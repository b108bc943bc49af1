from celery import shared_task


@shared_task(name="workflows.brukerplan.tasks.round_report_compute")
def round_report_compute(round_id: int):
    """Compute a closed round's report (services.report_build), enqueued by round_close after its
    commit. Safe to run twice: the report is computed from the frozen mappings."""
    from referrals.models import BrukerPlanRound
    from workflows.brukerplan.services import report_build

    round_ = BrukerPlanRound.objects.filter(pk=round_id, status=BrukerPlanRound.Status.CLOSED).first()
    if round_ is not None:
        report_build(round_)
