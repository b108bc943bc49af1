from tests.workflows.brukerplan.scenario import bp, frozen  # noqa: F401 (fixtures)
