"""One lock order on every path: the flow's process row first (as viewflow's task pages lock it),
then the case's row, so a post on a case page and one on its task page cannot deadlock."""
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_melding
from workflows.concern import services as svc


def for_update_tables(queries) -> list[str]:
    tables = []
    for query in queries:
        sql = query["sql"]
        if "FOR UPDATE" in sql:
            # The table a FOR UPDATE OF names, else the first FROM (with OF, the first FROM may be a subquery's
            # in the select list: the lock asks whether the user is a member with it).
            locked = re.search(r'FOR UPDATE OF "?(\w+)', sql) or re.search(r' FROM "?(\w+)', sql)
            tables.append(locked.group(1))
    return tables


class StepLockOrderTests:
    def test_it_locks_the_process_before_the_concern(self, org, postgresql_only):
        concern = make_melding(org)

        with CaptureQueriesContext(connection) as queries:
            svc.concern_confirm_receipt(concern=concern, user=org.caseworker)

        tables = for_update_tables(queries.captured_queries)
        assert tables[:2] == ["workflows_concernprocess", "referrals_concern"]
