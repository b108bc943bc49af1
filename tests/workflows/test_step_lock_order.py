"""One lock order on every path: the flow's process row first (as viewflow's task pages lock it),
then the case's row, so a post on a case page and one on its task page cannot deadlock."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_melding
from workflows.concern import services as svc


def for_update_tables(queries) -> list[str]:
    tables = []
    for query in queries:
        sql = query["sql"]
        if "FOR UPDATE" in sql:
            tables.append(sql.split(" FROM ", 1)[1].split()[0].strip('"'))
    return tables


class StepLockOrderTests:
    def test_it_locks_the_process_before_the_concern(self, org, postgresql_only):
        concern = make_melding(org)

        with CaptureQueriesContext(connection) as queries:
            svc.concern_confirm_receipt(concern=concern, user=org.caseworker)

        tables = for_update_tables(queries.captured_queries)
        assert tables[:2] == ["workflows_concernprocess", "referrals_concern"]
