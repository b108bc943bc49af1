"""Each process declares the access-log purposes it writes (Process.audit_purposes), and the person's
transparency report shows every one of them in bokmål, never a stored English key."""
import importlib
import re
from pathlib import Path

from django.utils import translation

from consent.reports import AUDIT_PURPOSES as SHARED_PURPOSES
from workflows.processes import processes

ROOT = Path(__file__).resolve().parents[2]
# A row written one by one, or a list read naming the rows' persons (workflows.list_persons).
LOGGED = re.compile(r"(?:access_log_write|list_persons_show)\((?:[^()]|\([^()]*\))*?purpose=(f?)\"([^\"]+)\"", re.S)
ASSIGNED = re.compile(r"run\.purpose = (.+)")


def written_purposes(process) -> tuple[set[str], list[str]]:
    """The purposes a process's package writes (its steps' and its literal log calls'), and any
    purpose it builds at run time (an f-string), which no catalogue could translate."""
    services = importlib.import_module(f"workflows.{process.name}.services")
    # The steps' purposes, for a process whose services run through the step skeleton (workflows.steps).
    written = {step.purpose for step in getattr(services, "STEPS", ()) if step.purpose}
    dynamic = []
    for path in sorted((ROOT / "workflows" / process.name).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for is_f, purpose in LOGGED.findall(text):
            (dynamic.append(f"{path.name}: f\"{purpose}\"") if is_f else written.add(purpose))
        for expression in ASSIGNED.findall(text):
            literals = re.findall(r"\"([^\"]+)\"", expression)
            if not literals or expression.lstrip().startswith("f"):
                dynamic.append(f"{path.name}: run.purpose = {expression.strip()}")
            written |= set(literals)
    written |= set(getattr(services, "AWAITING_APPROVAL", {}).values())
    return written, dynamic


class ProcessAuditPurposeTests:
    def test_it_declares_every_purpose_a_process_writes(self):
        for process in processes():
            written, dynamic = written_purposes(process)
            assert not dynamic, f"{process.name} builds a purpose at run time: {dynamic}"
            assert written, process.name
            # A process may also write a purpose every app shares (an emergency read), marked in consent's report.
            undeclared = written - set(process.audit_purposes) - set(SHARED_PURPOSES)
            assert not undeclared, f"{process.name} writes undeclared purposes: {sorted(undeclared)}"

    def test_it_declares_the_task_lists_purpose_in_every_process(self):
        # The task lists span the processes: each process whose tasks they name declares their purpose.
        written = {purpose for _f, purpose in LOGGED.findall((ROOT / "workflows" / "task_lists.py").read_text(encoding="utf-8"))}
        assert written
        for process in processes():
            assert written <= set(process.audit_purposes), process.name

    def test_it_has_a_bokmal_wording_for_every_declared_purpose(self):
        with translation.override("nb"):
            untranslated = [p for process in processes() for p in process.audit_purposes if translation.gettext(p) == p]
        assert not untranslated
