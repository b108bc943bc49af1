"""The youth contract's demo cases: both variants in several states, followed up by HFU.

Seeded once (when no contract exists), through the real services, some of it in the past
(workflows.demo.days_ago) so the schedule has history: awaiting signatures, active with a missed
test, in breach assessment, completed with the outcome reported, broken.
"""
import datetime

from django.utils import timezone

from people.validators import synthetic_national_id
from referrals.models import ContractTemplate, YouthContract
from workflows.demo import days_ago
from workflows.youth_contract import services as svc

NAMES = [("Emil", "Strand"), ("Nora", "Lie"), ("Jakob", "Berg"), ("Ida", "Moen"), ("Sander", "Vik")]


def seed(seeded: dict) -> None:
    if YouthContract.objects.exists():
        return
    services, users = seeded["services"], seeded["users"]
    politi, hfu = users["politi"], users["hfu"]
    police = ContractTemplate.objects.get(code="politi-ungdomskontrakt")
    voluntary = ContractTemplate.objects.get(code="frivillig-ungdomskontrakt")
    today = timezone.localdate()

    def register(n, template, *, age, ago, by=politi, service="politi"):
        given, family = NAMES[n]
        birth = today - datetime.timedelta(days=int(age * 365.25) + 40)
        with days_ago(ago):
            start = timezone.localdate()
            guardians = [] if age >= 18 else [{"national_id": synthetic_national_id(datetime.date(1980, 3, 1 + n), 100 + 10 * n),
                                               "given_name": "Forelder", "family_name": family}]
            return svc.contract_register(
                user=by, initiating_service=services[service], template=template, followup_service=services["hfu"],
                national_id=synthetic_national_id(birth, 600 + n), given_name=given, family_name=family, guardians=guardians,
                consent_method="signed", starts_on=start, police_decision_on=start - datetime.timedelta(days=2) if template == police else None,
            )

    def sign_all(contract, ago):
        with days_ago(ago):
            for party in contract.parties.all():
                svc.contract_sign(contract=contract, user=hfu, party_code=party.code, method="signed", signed_on=timezone.localdate())
            svc.contract_activate(contract=contract, user=hfu)

    def log(contract, ago, outcome="negative"):
        appointment = contract.appointments.filter(kind="test", result__isnull=True).order_by("on").first()
        with days_ago(ago):
            return svc.result_record(contract=contract, user=hfu, kind="test", outcome=outcome, appointment_code=appointment.code)

    # Awaiting signatures (police variant, 16).
    register(0, police, age=16, ago=0)
    # Active with a missed test, assessed as "talk and continue" (voluntary, 19, initiated by HFU itself).
    active = register(1, voluntary, age=19, ago=40, by=hfu, service="hfu")
    sign_all(active, 40)
    log(active, 26)
    log(active, 12, outcome="missed")
    with days_ago(10):
        svc.breach_decide(contract=active, user=hfu, decision="continue", note="Samtale med ungdommen; fortsetter.")
    # In breach assessment (police variant, 17): a positive test.
    breach = register(2, police, age=17, ago=20)
    sign_all(breach, 20)
    log(breach, 6, outcome="positive")
    # Completed with the outcome reported (police variant, 15 at the decision).
    done = register(3, police, age=15.6, ago=190)
    sign_all(done, 190)
    log(done, 176)
    with days_ago(3):
        svc.contract_complete(contract=done, user=hfu, outcome="Alle vilkår er oppfylt.")
        svc.outcome_report(contract=done, user=hfu)
    # Broken (police variant, 16): a missed test, assessed as broken; the report to the police is due.
    broken = register(4, police, age=16, ago=60)
    sign_all(broken, 60)
    log(broken, 46, outcome="missed")
    with days_ago(44):
        svc.breach_decide(contract=broken, user=hfu, decision="broken", note="Har ikke møtt til prøver eller samtaler.")
