"""Every name the admin shows of our own models is marked for translation (issue 7).

The page walks (tests/test_i18n_pages.py) find English they know from the catalogue; a field
without a translated verbose name is English no catalogue holds ("created at"), so it is caught
here: every field's verbose name, help text and choice labels, and every model's names, are lazy
translations. Only what our apps define: fields a model inherits from viewflow are viewflow's.
"""
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.test import SimpleTestCase
from django.utils.functional import Promise

# Our apps are the project's top-level packages (installed packages live deeper, in .venv).
OURS = {config.label for config in apps.get_app_configs() if Path(config.path).parent == Path(settings.BASE_DIR)}


def unmarked_names() -> list[str]:
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in OURS:
            continue
        found += [f"{meta.label} Meta.{name}" for name in ("verbose_name", "verbose_name_plural") if not isinstance(meta.original_attrs.get(name), Promise)]
        for field in [*meta.local_concrete_fields, *meta.local_many_to_many]:
            if field.auto_created:
                continue
            label = f"{meta.label}.{field.name}"
            if not isinstance(field.verbose_name, Promise):
                found.append(f"{label} verbose_name")
            if field.help_text and not isinstance(field.help_text, Promise):
                found.append(f"{label} help_text")
            found += [f"{label} choice {value!r}" for value, name in field.flatchoices if not isinstance(name, Promise)]
    return found


class ModelNamesTests(SimpleTestCase):
    def test_it_marks_every_name_of_our_models_for_translation(self):
        self.assertIn("referrals", OURS)
        self.assertNotIn("viewflow", OURS)
        self.assertEqual(unmarked_names(), [])
