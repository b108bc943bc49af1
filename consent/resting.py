"""The cases that rest on a consent, as consent sees them: counters the processes plug in.

The consent page warns how many open cases a withdrawal will end, but consent may import neither
workflows nor the case records (.importlinter). Each process that rests on consent registers its
counter here at start-up (``WorkflowsConfig.ready``, from its registry entry's
``cases_on_consent``), so the warning covers every such process.
"""
from collections.abc import Callable

_counters: dict[str, Callable] = {}


def register_cases_on_consent(process: str, counter: Callable) -> None:
    """``counter(consent) -> int``: the process's open cases resting on ``consent``."""
    _counters[process] = counter


def open_cases_on_consent(consent) -> int:
    return sum(counter(consent) for counter in _counters.values())
