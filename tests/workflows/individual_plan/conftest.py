from tests.workflows.individual_plan.scenario import frozen, ip  # noqa: F401 (fixtures)
