"""Start-up checks of the process registry: an incomplete entry fails here, not in production."""
import importlib
import pkgutil

from django.core import checks
from django.utils.module_loading import import_string

from workflows.models import CaseTask
from workflows.processes import processes

REQUIRED = ("name", "label", "flow", "app", "flow_icon", "access", "task_related", "persons", "audit_purposes", "demo", "menu",
            "record", "record_url", "roles", "owner", "landing", "list_namings", "insight_cases")
DOTTED = ("flow", "app", "access", "demo", "menu", "roles", "owner", "landing", "list_namings", "insight_cases")


def registry_problems(registry=None, flows_package: str = "workflows.flows") -> list[str]:
    """What is wrong with the registry: missing hooks, dotted paths that do not import, a flow
    module without an entry. Empty when every process is complete."""
    registry = processes() if registry is None else registry
    problems = []
    names = [p.name for p in registry]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(f"process {name!r} is registered twice")
    for process in registry:
        for attr in REQUIRED:
            if not getattr(process, attr, None):
                problems.append(f"process {process.name!r} lacks {attr!r}")
        dotted = DOTTED + (("on_consent_withdrawn", "cases_on_consent") if process.rests_on_consent else ()) + (
            ("on_person_merge",) if process.on_person_merge else ()) + (("delivery_gate",) if process.delivery_gate else ()) + (
            ("home",) if process.home else ())
        for hook in ("on_consent_withdrawn", "cases_on_consent"):
            if process.rests_on_consent and not getattr(process, hook):
                problems.append(f"process {process.name!r} rests on consent but has no {hook!r} hook")
        if not process.rests_on_consent and not process.consent_note:
            problems.append(f"process {process.name!r} says it never rests on consent without saying why ('consent_note')")
        for attr in dotted:
            path = getattr(process, attr, "")
            if not path:
                continue
            try:
                import_string(path)
            except ImportError as e:
                problems.append(f"process {process.name!r}: {attr} {path!r} does not import ({e})")
    for process in registry:
        for name, path in getattr(process, "service_facts", {}).items():
            try:
                import_string(path)
            except ImportError as e:
                problems.append(f"process {process.name!r}: service fact {name!r} {path!r} does not import ({e})")
        if process.record:
            try:
                process.record_model()
            except (LookupError, ValueError) as e:
                problems.append(f"process {process.name!r}: record {process.record!r} is no installed model ({e})")
    registered_flows = {p.flow for p in registry}
    package = importlib.import_module(flows_package)
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{flows_package}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__ and _is_flow(value):
                path = f"{module.__name__}.{value.__name__}"
                if path not in registered_flows:
                    problems.append(f"flow {path} has no entry in workflows/processes.py")
                if not issubclass(value.task_class or object, CaseTask):
                    problems.append(f"flow {path} does not set task_class = CaseTask (its task pages would read the process twice)")
                problems += node_problems(path, value.instance.nodes())
    return problems


def node_problems(path: str, flow_nodes) -> list[str]:
    """What is wrong with a flow's nodes: one whose activation writes its own new task (a step keeps
    its new tasks and writes them together, workflows.flows.nodes.task_writes: the next node's
    link would find no key), or a human node with an onCreate hook (it would see its task unwritten)."""
    from workflows.flows.nodes import TaskWrites

    problems = []
    for node in flow_nodes:
        if not issubclass(node.activation_class, TaskWrites):
            problems.append(f"flow {path}: node {node.name!r} is not one of workflows.flows.nodes (its task would not be written with the step's)")
        if getattr(node, "_on_create", None) is not None:
            problems.append(f"flow {path}: node {node.name!r} has an onCreate hook (it would see its task before it is written)")
    return problems


def _is_flow(cls) -> bool:
    from viewflow.workflow.flow import Flow

    return issubclass(cls, Flow) and cls is not Flow


@checks.register()
def process_registry_complete(app_configs, **kwargs):
    return [checks.Error(problem, hint="See docs/architecture.md, 'Adding a process'.", id="workflows.E001")
            for problem in registry_problems()]


def home_kinds_problems(registry=None) -> list[str]:
    """Kinds of service that a registry entry claims as its home (``home_kinds``) but that are no
    kind of service (org.Service.Kind): a misspelt kind would silently never match a user, and the
    police would land on another process's page. Empty when every kind exists."""
    from org.models import Service

    registry = processes() if registry is None else registry
    known = set(Service.Kind.values)
    return [
        f"process {process.name!r}: home kind {kind!r} is no kind of service (org.Service.Kind)"
        for process in registry for kind in process.home_kinds if kind not in known
    ]


@checks.register()
def process_home_kinds_known(app_configs, **kwargs):
    from org.models import Service

    hint = "Use one of org.Service.Kind: " + ", ".join(Service.Kind.values) + "."
    return [checks.Error(problem, hint=hint, id="workflows.E002") for problem in home_kinds_problems()]
