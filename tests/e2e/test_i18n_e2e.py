"""What only the browser shows in bokmål: viewflow's script-made words (issue 7, point 1).

The queue's bulk bar writes "1 selected" with the script's gettext() (not "1 of 8 selected": the
task lists no longer count the whole list, issue 14); the words come from Django's JavaScript
catalogue at /jsi18n/.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_melding, make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class ScriptWordsTests:
    def test_the_queue_counts_the_selected_tasks_in_bokmal(self, new_page, login):
        org = make_org()
        for _ in range(2):
            make_melding(org)
        page = login(new_page(), org.caseworker.username)
        page.goto("/workflow/queue/")
        page.locator(".vf-list__action-cell .mdc-checkbox input").first.check()
        selected = page.locator(".vf-list__action-selected")
        expect(selected).to_have_text(re.compile(r"^1 valgt\s*$"))
        assert "selected" not in selected.inner_text()
