"""The test client as a browser that has rendered the form it posts.

Every create form carries a one-time token (accounts.submission) in a hidden field. A browser posts
the one its form was rendered with; a test that posts a form's data without fetching the form first
gets, from this client, a token freshly issued for the logged-in user, exactly as the form would
have carried it. So each such post is a first send, as it was before the tokens. The tokens' own
tests (tests/accounts/test_submission.py) post with django.test.Client, which adds nothing: a
missing, forged or another user's token is refused there. A post that names its own token
(``submission``), or that has no logged-in user or no form data, goes as it is.
"""
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client
from django.test.client import MULTIPART_CONTENT

from accounts.submission import FIELD, token_issue


class FormClient(Client):
    def post(self, path, data=None, content_type=MULTIPART_CONTENT, *args, **kwargs):
        if isinstance(data, dict) and FIELD not in data and content_type == MULTIPART_CONTENT:
            user_pk = self.session.get(SESSION_KEY)
            if user_pk is not None:
                data = {**data, FIELD: token_issue(get_user_model().objects.get(pk=user_pk))}
        return super().post(path, data, content_type, *args, **kwargs)
