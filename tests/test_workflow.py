"""The GitHub Pages workflow builds the book as the README says and deploys it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def load_workflow() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def readme_build_command() -> str:
    """The command the README gives for building the book."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"^(make book)\s+#", readme, flags=re.M)
    assert match, "the README no longer shows `make book` in a code block"
    return match.group(1)


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def uses(step: dict) -> str:
    return step.get("uses", "").split("@")[0]


def test_it_runs_on_pushes_to_main():
    workflow = load_workflow()
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"


def test_it_builds_with_the_readme_command_and_uploads_the_site():
    build = steps(load_workflow(), "build")
    commands = [step["run"].strip() for step in build if "run" in step]
    assert commands == [readme_build_command()]
    python = next(step for step in build if uses(step) == "actions/setup-python")
    assert python["with"]["python-version"] == "3.11"
    upload = next(
        step for step in build if uses(step) == "actions/upload-pages-artifact"
    )
    assert upload["with"]["path"] == "_build/html"
    # The upload comes after the build.
    assert build.index(upload) > next(
        i for i, step in enumerate(build) if "run" in step
    )


def test_it_caches_the_environment_and_the_executed_notebooks():
    cached = {
        step["with"]["path"].strip(): step["with"]["key"]
        for step in steps(load_workflow(), "build")
        if uses(step) == "actions/cache"
    }
    assert any(".venv" in path for path in cached)
    assert "_build/.jupyter_cache" in cached
    # A cached page would not notice a change in dropout_utils alone.
    assert "dropout_utils" in cached["_build/.jupyter_cache"]


def test_it_deploys_the_uploaded_site():
    workflow = load_workflow()
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert [uses(step) for step in deploy["steps"]] == ["actions/deploy-pages"]
