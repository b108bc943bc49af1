from tests.workflows.youth_contract.scenario import frozen, yc  # noqa: F401 (fixtures)
