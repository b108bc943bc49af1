"""The individual plan's demo cases: none yet (the demo seeder comes with the demo user ``koordinator``)."""


def seed(seeded: dict) -> None:
    return None
