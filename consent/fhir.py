"""A person's consents as FHIR R5 Consent resources (GDPR art. 20 portability, exchange with other systems).

Choices, so that a receiving system can rely on them:

- ``Consent.status``: ``active`` for an active consent and for one not yet in force (``period.start``
  lies ahead); ``inactive`` for a withdrawn or expired one and for one whose givers are no longer
  entitled to give it at the person's age (it must be renewed). Our own, finer status is carried
  in ``meta.tag`` (system ``STATUS_SYSTEM``).
- The subject is referred to by our random person code (``Patient/<code>``), never by name in a
  URL-like field. The export is meant for the person or for another system that must match the
  person, so the reference also carries the Norwegian identifier: fødselsnummer with system
  ``urn:oid:2.16.578.1.12.4.1.4.1``, D-nummer with ``urn:oid:2.16.578.1.12.4.1.4.2`` (the Norwegian
  HL7 OIDs); a person known only by a birth date has no identifier. Guardians are the guardians'
  own data: they are named (``display``) as ``RelatedPerson`` but their numbers are left out.
- ``regulatoryBasis`` is the age rule (code and legal reference) that decided who could give the
  consent when it took effect.
- Services are ``Organization`` references by service code with the service name as display.
"""
import html

from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import Consent
from consent.selectors import AgeRules, consent_status, consents_judged

FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"
DNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.2"
# Local code systems: URNs, so they claim no web address we do not own.
STATUS_SYSTEM = "urn:samhandling:fhir:consent-status"
PURPOSE_SYSTEM = "urn:samhandling:fhir:consent-purpose"
DOMAIN_SYSTEM = "urn:samhandling:fhir:consent-domain"
METHOD_SYSTEM = "urn:samhandling:fhir:consent-method"
AGE_RULE_SYSTEM = "urn:samhandling:fhir:age-rule"
LOINC = "http://loinc.org"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

FHIR_STATUS = {
    "active": "active",
    "pending": "active",
    "withdrawn": "inactive",
    "expired": "inactive",
    "insufficient": "inactive",
}


def _person_identifier(person) -> dict | None:
    if not person.national_id:
        return None
    system = {"fnr": FNR_SYSTEM, "dnr": DNR_SYSTEM}.get(person.id_kind)
    if system is None:
        return None
    return {"use": "official", "system": system, "value": person.national_id}


def patient_reference(person, service=None, *, with_identifier: bool = True, name: str | None = None) -> dict:
    """The person as ``service`` registered them (its own record of the name; see PersonRecord);
    the identity number only ``with_identifier`` (the exporting service recorded the consent).
    ``name``: that record's name when the caller has read it already ("" for none)."""
    from people.selectors import person_name_for

    if name is None:
        name = person_name_for(person, service)
    ref = {"reference": f"Patient/{person.code}", "type": "Patient", "display": name or "–"}
    identifier = _person_identifier(person) if with_identifier else None
    if identifier:
        ref["identifier"] = identifier
    return ref


def _guardian_reference(guardian, service, number, *, name: str) -> dict:
    from people.selectors import guardian_label

    # guardian_label without a service names no record (no query): "Registered guardian n".
    return {"type": "RelatedPerson", "display": name or guardian_label(guardian, None, number)}


class ExportLookups:
    """What the export of ``consents`` reads besides the consents themselves, read at once: the
    age rules, the guardians, and the names the recording services registered for the person and
    the guardians. Three queries whatever the number of consents (the guardians none if
    prefetched); the consents' ``person``, ``recorded_by_service`` and ``grantees`` should be loaded
    by the caller."""

    def __init__(self, consents):
        from django.db.models import prefetch_related_objects

        from people.selectors import person_records_for

        self.rules = AgeRules()
        prefetch_related_objects(consents, "guardians")
        pairs = []
        for c in consents:
            pairs.append((c.person_id, c.recorded_by_service_id))
            pairs += [(g.pk, c.recorded_by_service_id) for g in c.guardians.all()]
        self.records = person_records_for(pairs)

    def name(self, person, service) -> str:
        record = self.records.get((person.pk, service.pk)) if person is not None and service is not None else None
        return record.full_name if record else ""


def organization_reference(service) -> dict:
    return {"reference": f"Organization/{service.code}", "type": "Organization", "display": service.name}


def _period(consent: Consent) -> dict:
    period = {"start": consent.valid_from.isoformat()}
    if consent.valid_to:
        period["end"] = consent.valid_to.isoformat()
    return period


def _narrative(consent: Consent, status: str) -> dict:
    lines = [
        _("Consent %(ref)s") % {"ref": consent.reference},
        "%s: %s" % (_("Purpose"), consent.get_purpose_display()),
        "%s: %s" % (_("Information"), consent.information),
        "%s: %s" % (_("Status"), status),
    ]
    if consent.withdrawn_at:
        lines.append("%s: %s" % (_("Withdrawn"), timezone.localtime(consent.withdrawn_at).isoformat(timespec="seconds")))
    body = "".join(f"<p>{html.escape(str(line))}</p>" for line in lines)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def consent_to_fhir(consent: Consent, *, with_identifier: bool = True, lookups: ExportLookups | None = None) -> dict:
    """One consent as a FHIR R5 ``Consent`` resource (a plain dict, JSON-ready); the person's
    identity number only ``with_identifier``. ``lookups``: what the export of several consents
    reads once (ExportLookups, over consents including this one, each with its ``status`` set:
    consents_judged, person_consents_for_user); by default read and judged for this one."""
    if lookups is None:
        lookups, status = ExportLookups([consent]), consent_status(consent)
    else:
        status = consent.status
    person = consent.person
    service = consent.recorded_by_service
    person_name = lookups.name(person, service)
    grantors = []
    if consent.given_by_person:
        grantors.append(patient_reference(person, service, with_identifier=with_identifier, name=person_name))
    guardians = list(consent.guardians.all())
    grantors += [_guardian_reference(g, service, n, name=lookups.name(g, service)) for n, g in enumerate(guardians, start=1)]
    grantees = [organization_reference(s) for s in consent.grantees.all()]
    responsible = organization_reference(service)
    recorded_on = timezone.localdate(consent.recorded_at)
    took_effect = max(consent.valid_from, recorded_on)
    rule = lookups.rules.rule_for(domain=consent.domain, age=person.age_on(took_effect))

    resource = {
        "resourceType": "Consent",
        "id": str(consent.code),
        "meta": {"tag": [{"system": STATUS_SYSTEM, "code": status}]},
        "text": _narrative(consent, status),
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{consent.code}"}],
        "status": FHIR_STATUS[status],
        "category": [
            {"coding": [{"system": LOINC, "code": "64292-6", "display": "Release of information consent"}]},
            {"coding": [{"system": DOMAIN_SYSTEM, "code": consent.domain, "display": str(consent.get_domain_display())}]},
        ],
        "subject": patient_reference(person, service, with_identifier=with_identifier, name=person_name),
        "date": recorded_on.isoformat(),
        "period": _period(consent),
        "controller": [responsible],
        "manager": [responsible],
        "grantee": grantees,
        "decision": "permit",
        "verification": [
            {
                "verified": True,
                "verificationType": {
                    "coding": [{"system": METHOD_SYSTEM, "code": consent.method, "display": str(consent.get_method_display())}],
                },
                "verifiedBy": responsible,
                "verificationDate": [consent.recorded_at.isoformat()],
            }
        ],
        "provision": [
            {
                "period": _period(consent),
                "purpose": [{"system": PURPOSE_SYSTEM, "code": consent.purpose, "display": str(consent.get_purpose_display())}],
                "actor": [
                    {"role": {"coding": [{"system": PARTICIPATION_TYPE, "code": "IRCP", "display": "information recipient"}]}, "reference": g}
                    for g in grantees
                ],
                "code": [{"text": consent.information}],
            }
        ],
    }
    if grantors:
        resource["grantor"] = grantors
        # Who confirmed it: the person if they gave it, else the first guardian.
        resource["verification"][0]["verifiedWith"] = grantors[0]
    if rule is not None:
        resource["regulatoryBasis"] = [
            {"coding": [{"system": AGE_RULE_SYSTEM, "code": rule.code, "display": rule.legal_reference}], "text": rule.legal_reference}
        ]
    return resource


def person_consents_bundle(person, *, consents=None, own_service_ids=None) -> dict:
    """The person's consents as a FHIR R5 ``Bundle`` of type ``collection``, in a constant number
    of queries whatever their number.

    ``consents`` narrows the export (e.g. to those the exporting user may see:
    person_consents_for_user, whose rows carry their ``status``); by default all of the person's
    consents are included, newest first. With ``own_service_ids`` the identity number is exported
    only on the consents those services recorded themselves.
    """
    if consents is None:
        consents = consents_judged(
            Consent.objects.filter(person=person)
            .select_related("person", "recorded_by_service")
            .prefetch_related("guardians", "grantees")
            .order_by("-recorded_at", "-pk")
        )
    consents = list(consents)
    lookups = ExportLookups(consents)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(timespec="seconds"),
        "entry": [{"fullUrl": f"urn:uuid:{c.code}", "resource": consent_to_fhir(
            c, with_identifier=own_service_ids is None or c.recorded_by_service_id in own_service_ids, lookups=lookups)}
            for c in consents],
    }
