"""Production installs only what production runs: the test tools are pinned in requirements-dev.txt,
which `make test` installs and the Dockerfile does not."""
import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TEST_TOOLS = {
    "pytest", "pytest-django", "pytest-xdist", "playwright", "faker", "factory-boy", "time-machine", "hypothesis",
    "execnet", "iniconfig", "pluggy", "greenlet", "sortedcontainers", "import-linter", "grimp",
}


def names(filename: str) -> set[str]:
    found = set()
    for line in (BASE_DIR / filename).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found.add(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return found


class RequirementsTests:
    def test_it_pins_no_test_tool_for_production(self):
        assert names("requirements.txt") & TEST_TOOLS == set()

    def test_it_asks_for_no_test_tool_in_production(self):
        assert names("requirements.in") & TEST_TOOLS == set()

    def test_it_pins_the_test_tools_for_development(self):
        dev = names("requirements-dev.txt")
        assert {"pytest", "pytest-django", "pytest-xdist", "playwright", "faker", "factory-boy", "time-machine"} <= dev
        assert "-r requirements.txt" in (BASE_DIR / "requirements-dev.txt").read_text().splitlines()

    def test_it_builds_the_image_from_the_production_pins(self):
        installs = [line for line in (BASE_DIR / "Dockerfile").read_text().splitlines() if "pip install" in line]
        assert installs and all("-r requirements.txt" in line for line in installs)
        assert not any("requirements-dev" in line for line in installs)

    def test_it_installs_the_development_pins_for_the_tests(self):
        makefile = (BASE_DIR / "Makefile").read_text()
        assert re.search(r"^test: .*install-dev", makefile, re.MULTILINE)
        assert re.search(r"pip install -q -r requirements-dev\.txt", makefile)
