"""The person access helper: a person is reached only through a role a user's service holds with them.

Which tables give a service a role with a person is not listed here: every app and process declares
where it holds persons in people.holders, and the helpers below read that registry.
"""
from django.http import Http404

from org.access import active_memberships, code_as_uuid, member_facts, request_memo
from org.models import Membership, Service
from people import holders
from people.models import Person


def person_services_with_role(person: Person) -> set[int]:
    """Services that hold a role with the person: through any table declared in people.holders
    (a contact or consent they registered, a live disclosure to or from them, a case they sent)."""
    return holders.services_with_role(person)


def person_acting_service(user, person: Person, *, leader: bool = False) -> Service | None:
    """The user's service (first by name) through which they hold a role with ``person``; None if none.

    With ``leader``, only services the user leads count. Asked once per request and person for the
    request's own user (org.access.request_memo): the access helper, the audit row and the page's
    name tags all ask it.
    """
    memo = request_memo(user)
    if memo is None:
        memberships = active_memberships(user, role=Membership.Role.LEADER if leader else None).filter(
            service_id__in=person_services_with_role(person)
        )
        membership = memberships.select_related("service").order_by("service__name", "service_id").first()
        return membership.service if membership else None
    if leader and not member_facts(user).leader_service_ids:
        return None  # leads no service: no service of theirs to look for (the question costs no query)
    key = ("person_services_with_role", person.pk)
    if key not in memo:
        memo[key] = person_services_with_role(person)
    return member_facts(user).first_service(memo[key], leader=leader)


def person_get_for_user(user, code, *, leader: bool = False) -> Person:
    """A person the user's service holds a role with (a leader of it, if ``leader``), or Http404."""
    person = Person.objects.filter(code=code_as_uuid(code), merged_into__isnull=True).first()
    if person is None or not user.is_authenticated or person_acting_service(user, person, leader=leader) is None:
        raise Http404
    return person
