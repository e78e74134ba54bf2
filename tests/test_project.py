"""Project plumbing that CI depends on."""

import re

from _helpers import ROOT


def readme_command(section: str) -> str:
    text = (ROOT / "README.md").read_text()
    body = text.split(f"## {section}", 1)[1]
    return re.search(r"```bash\n(.+?)\n```", body, re.S).group(1).strip()


def test_ci_runs_exactly_the_readme_test_command():
    command = readme_command("Run the tests")
    ci_lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert command in ci_lines


def test_readme_demo_script_exists():
    command = readme_command("Run the demo")
    script = re.search(r"python (\S+\.py)", command).group(1)
    assert (ROOT / script).is_file()
