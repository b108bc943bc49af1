"""Foreign keys to the organisation and person models now point at org/people (issue 13)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('org', '0001_initial'),
        ('workflows', '0004_referralprocess'),
    ]

    operations = [
        # State only: the tables were renamed by org 0001 / people 0001 and the database's foreign
        # keys follow a renamed table, so there is nothing to change in the database.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='deadline',
                    name='responsible_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deadlines', to='org.service'),
                ),
            ],
        ),
    ]
