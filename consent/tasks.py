from celery import shared_task


@shared_task(name="consent.tasks.create_reconsent_tasks")
def create_reconsent_tasks():
    from consent.services import reconsent_tasks_create

    return len(reconsent_tasks_create())
