from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """The notifications page reads a user's newest notifications a page at a time (issue 14): an
    index in that order, so a user with 250,000 notifications costs one page of index entries."""

    dependencies = [
        ("notifications", "0006_email_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["user", "-created_at", "-id"], name="notification_user_new_idx"),
        ),
    ]
