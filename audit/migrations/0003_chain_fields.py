import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accesslog",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False, verbose_name="time"),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="action",
            field=models.CharField(choices=[("view", "Viewed"), ("create", "Created"), ("update", "Changed"), ("delete", "Deleted"), ("disclose", "Disclosed"), ("export", "Exported")], max_length=16, verbose_name="action"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="via",
            field=models.CharField(choices=[("role", "Through a role in the case"), ("break_glass", "Emergency access (break the glass)"), ("privacy", "Privacy function, on a registered request"), ("admin", "Administration")], default="role", max_length=16, verbose_name="access through"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="changes",
            field=models.JSONField(blank=True, default=dict, verbose_name="changes"),
        ),
        migrations.AddField(
            model_name="accesslog",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accesslog",
            name="row_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="accesslog",
            index=models.Index(fields=["via", "at"], name="accesslog_via_idx"),
        ),
        migrations.AddIndex(
            model_name="accesslog",
            index=models.Index(fields=["action", "at"], name="accesslog_action_idx"),
        ),
    ]
