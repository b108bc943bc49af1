"""Counting the queries of one page request (issue 14): every page asks the database a constant
number of times, at most ``MAX_QUERIES``, whatever the number of rows."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

MAX_QUERIES = 15
# Transaction brackets are not questions to the database (savepoints here, BEGIN/COMMIT in production).
BRACKETS = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")


def page_queries(client, user, url, *, status=200) -> list[str]:
    """The statements of a settled request for ``url`` by ``user`` (the first request of a login
    writes its session; the one measured is the next), transaction brackets left out."""
    client.force_login(user)
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == status, (url, response.status_code)
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(BRACKETS)]


def response_body(response) -> bytes:
    """The body of a response, streamed (a CSV download) or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


class chunked_reads:
    """``with chunked_reads() as sqls:`` the statements read through a server-side cursor
    (QuerySet.iterator(chunk_size): a row chunk at a time) while the block runs. How such a
    cursor shows among the captured queries depends on the connection's binding (a DECLARE with
    client-side binding, the SELECT itself with server-side binding), so it is read at its source."""

    def __enter__(self) -> list[str]:
        self.sqls, original = [], connection.chunked_cursor

        def chunked_cursor():
            cursor = original()
            execute = cursor.execute

            def recording(sql, params=None):
                self.sqls.append(sql)
                return execute(sql, params)

            cursor.execute = recording
            return cursor

        connection.chunked_cursor = chunked_cursor
        return self.sqls

    def __exit__(self, *exc):
        del connection.chunked_cursor
