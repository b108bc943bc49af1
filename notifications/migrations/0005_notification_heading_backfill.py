"""Give the reminders and notifications written before 0004 their heading: the case's reference,
the step and its deadline, from what the rows already point at (issue 7, point 12).

- reference: the short code of the reminder's subject (a concern, referral, consent, emergency access);
- a deadline's reminder (obligation ``deadline:<id>``): the policy's title and the deadline's due time;
- a notice of a step (``<process>:<id>:<key>:<service>``): the step named by its key, and the
  deadline the notified service owed on the case from the moment the notice was written, if any;
- an emergency access and a re-consent task: their own step.

Notifications copy their reminder's fields. Runs in batches; rows that already have a reference
are left alone, so it can run again.
"""
import datetime

from django.db import migrations
from django.db.models import OuterRef, Subquery

# The msgids the services now pass as the topic (shown translated), by the notice's key.
INFO_TOPICS = {
    "submitted": "New concern",
    "received": "Receipt confirmed",
    "feedback_initial": "Feedback from the child welfare service",
    "feedback_final": "Feedback from the child welfare service",
    "answered": "Advice given",
    "sent": "New referral",
    "declined": "Declined: forward it to another service",
    "cancelled": "Cancelled by the sender",
    "status:received": "Received",
    "status:accepted": "Accepted",
    "status:rejected": "Declined",
    "status:in-progress": "In progress",
    "status:on-hold": "On hold",
    "status:completed": "Completed",
    "status:failed": "Failed",
}
SAME_STEP = datetime.timedelta(minutes=1)
BATCH = 2000


def _reference(apps, content_types, references, reminder):
    key = (reminder.subject_type_id, reminder.subject_id)
    if key not in references:
        ct = content_types.get(reminder.subject_type_id)
        code = None
        if ct is not None:
            try:
                model = apps.get_model(ct.app_label, ct.model)
            except LookupError:
                model = None
            if model is not None and any(f.name == "code" for f in model._meta.get_fields()):
                code = model.objects.filter(pk=reminder.subject_id).values_list("code", flat=True).first()
        references[key] = str(code).split("-")[0].upper() if code else ""
    return references[key]


def forwards(apps, schema_editor):
    Reminder = apps.get_model("notifications", "Reminder")
    Notification = apps.get_model("notifications", "Notification")
    Deadline = apps.get_model("workflows", "Deadline")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_types = {ct.pk: ct for ct in ContentType.objects.all()}
    references = {}
    batch = []
    for reminder in Reminder.objects.filter(reference="").order_by("pk").iterator(chunk_size=BATCH):
        reminder.reference = _reference(apps, content_types, references, reminder)
        obligation = reminder.obligation
        deadline = None
        if obligation.startswith("deadline:") and obligation[len("deadline:"):].isdigit():
            deadline = Deadline.objects.select_related("policy").filter(pk=int(obligation[len("deadline:"):])).first()
        elif obligation.startswith("breakglass:"):
            reminder.topic = "Review the emergency access"
        elif obligation.startswith("reconsent:"):
            reminder.topic = "Renew the consent"
        elif reminder.kind == "info":
            parts = reminder.key.split(":")
            reminder.topic = INFO_TOPICS.get(":".join(parts[2:-1]), "")
            deadline = (
                Deadline.objects.select_related("policy")
                .filter(
                    subject_type_id=reminder.subject_type_id, subject_id=reminder.subject_id,
                    responsible_service_id=reminder.service_id,
                    starts_at__gte=reminder.created_at - SAME_STEP, starts_at__lte=reminder.created_at + SAME_STEP,
                )
                .order_by("due_at")
                .first()
            )
        if deadline is not None:
            reminder.topic, reminder.deadline_at = deadline.policy.title, deadline.due_at
        reminder.topic = reminder.topic[:200]
        batch.append(reminder)
        if len(batch) >= BATCH:
            Reminder.objects.bulk_update(batch, ["reference", "topic", "deadline_at"])
            batch = []
    if batch:
        Reminder.objects.bulk_update(batch, ["reference", "topic", "deadline_at"])
    of_reminder = Reminder.objects.filter(pk=OuterRef("reminder_id"))
    Notification.objects.filter(reminder__isnull=False, reference="").update(
        reference=Subquery(of_reminder.values("reference")[:1]),
        topic=Subquery(of_reminder.values("topic")[:1]),
        deadline_at=Subquery(of_reminder.values("deadline_at")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_notification_heading"),
        ("workflows", "0007_one_name_per_step"),
        ("referrals", "0005_kernel_models_moved"),
        ("consent", "0008_kernel_models_moved"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
