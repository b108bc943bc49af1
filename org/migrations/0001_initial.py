"""The organisation models move here from ``referrals`` (issue 13), with their data.

State: the models are created here and deleted from ``referrals`` (referrals 0005), every foreign
key to them re-pointed in between by each app's own migration. Database: nothing is copied; the
tables are renamed (``referrals_service`` → ``org_service``, ...), so ids, foreign keys, guardian's
permission rows and viewflow's task permission objects stay as they are. The content types are
renamed in place too (same ids), so every permission and generic reference keeps pointing at the
same rows; stored "referrals.<codename>" strings are rewritten by workflows 0006.
"""
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

from org.migrations_support import move_content_types, rename_tables

TABLES = [("referrals_municipality", "org_municipality"), ("referrals_service", "org_service"), ("referrals_membership", "org_membership")]
MODELS = ["municipality", "service", "membership"]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('referrals', '0004_person_records_from_existing_roles'),
        # After every earlier migration of the apps pointing at these tables: on SQLite a later
        # migration of theirs could rebuild a table from the old state, re-creating a foreign key
        # to the old table name.
        ('audit', '0005_refuse_update_delete'),
        ('consent', '0007_access_request'),
        ('notifications', '0002_initial'),
        ('workflows', '0004_referralprocess'),
        # In the state when the content types move, so a duplicate's users are found (migrations_support).
        ('guardian', '0003_remove_groupobjectpermission_guardian_gr_content_ae6aec_idx_and_more'),
        ('viewflow', '0015_task_scheduled'),
        ('admin', '0003_logentry_add_action_flag_choices'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Municipality',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120, verbose_name='name')),
                        ('number', models.CharField(max_length=4, unique=True, verbose_name='municipality number')),
                    ],
                    options={
                        'verbose_name': 'municipality',
                        'verbose_name_plural': 'municipalities',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Service',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('name', models.CharField(max_length=200, verbose_name='name')),
                        ('kind', models.CharField(choices=[('barnehage', 'Kindergarten'), ('skole', 'School'), ('helsestasjon', 'Child health clinic'), ('skolehelsetjeneste', 'School health service'), ('barnevern', 'Child welfare service'), ('ppt', 'Educational-psychological service (PPT)'), ('rustjeneste', 'Substance service'), ('nav', 'NAV'), ('fastlege', 'General practitioner'), ('politi', 'Police'), ('slt', 'SLT'), ('personvern', 'Privacy function'), ('other', 'Other')], db_index=True, max_length=32, verbose_name='kind')),
                        ('owner', models.CharField(choices=[('municipal', 'Municipal'), ('private', 'Private'), ('state', 'State'), ('county', 'County')], default='municipal', max_length=16, verbose_name='owner')),
                        ('email', models.EmailField(blank=True, max_length=254, verbose_name='e-mail')),
                        ('active', models.BooleanField(default=True, verbose_name='active')),
                        ('group', models.OneToOneField(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='service', to='auth.group')),
                        ('municipality', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='services', to='org.municipality', verbose_name='municipality')),
                    ],
                    options={
                        'verbose_name': 'service',
                        'verbose_name_plural': 'services',
                        'ordering': ['name'],
                        'permissions': [('handle_concerns', 'Can handle concern tasks addressed to the service')],
                    },
                ),
                migrations.CreateModel(
                    name='Membership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('staff', 'Staff'), ('leader', 'Leader')], default='staff', max_length=16, verbose_name='role')),
                        ('active', models.BooleanField(default=True, verbose_name='active')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                        ('service', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='org.service', verbose_name='service')),
                    ],
                    options={
                        'verbose_name': 'membership',
                        'verbose_name_plural': 'memberships',
                        'indexes': [models.Index(fields=['service', 'role'], name='referrals_m_service_0c226c_idx')],
                        'constraints': [models.UniqueConstraint(fields=('user', 'service'), name='uniq_membership_user_service')],
                    },
                ),
            ],
            database_operations=[
                migrations.RunPython(*rename_tables(TABLES)),
            ],
        ),
        # The index keeps its auto-generated name from referrals; give it one that says what it is.
        migrations.RenameIndex(model_name='membership', new_name='membership_service_role_idx', old_name='referrals_m_service_0c226c_idx'),
        migrations.RunPython(*move_content_types("referrals", "org", MODELS)),
    ]
