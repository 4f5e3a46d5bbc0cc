"""The otter-grader assignment: its master notebook, student version and tests.

`otter assign` builds the student and autograder versions and grades the
reference solutions against every test, public and hidden; it fails when one
does not pass. On top of that, these tests grade the student notebook three
times with the autograder: as handed out (every test must fail), with the
reference solutions filled in (every test must pass) and with a typical
mistake in each answer (the public tests pass, a hidden one must fail).

Otter runs in subprocesses: it imports packages that raise deprecation
warnings, which this suite turns into errors, and grading starts a kernel.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "assignments" / "dropout" / "dropout-assignment.ipynb"
NOTEBOOK_NAME = MASTER.name
ANSWER_TAG = "otter_answer_cell"  # otter's tag on the student's answer cells
SOLUTION_TAG = "otter_assign_solution_cell"  # the same cells, autograder side

# Grades one notebook with an autograder zip and writes, per question, each
# test case's visibility, outcome and message as JSON. `otter run` does the
# same but keeps the per-test outcomes only in a pickle.
GRADE_SCRIPT = """
import json, sys, warnings
warnings.simplefilter("ignore")
from otter.api import grade_submission
results = grade_submission(sys.argv[1], sys.argv[2], quiet=True)
report = {
    name: [
        {"hidden": r.test_case.hidden, "passed": r.passed, "message": r.message}
        for r in test_file.test_case_results
    ]
    for name, test_file in results.results.items()
}
with open(sys.argv[3], "w") as handle:
    json.dump(report, handle)
"""

# A typical mistake per answer that the public tests do not catch, and a
# phrase from the failure message of the hidden test that must catch it.
MISTAKES = {
    "q1": (
        """
def dropout_layer(X, p):
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if p == 0:
        return X
    if p == 1:
        return torch.zeros_like(X)
    keep = (torch.rand(X.shape) >= p).to(X.dtype)  # drawn on the CPU
    return X * keep / (1 - p)
""",
        "device",
    ),
    "q2": (
        """
class Dropout(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p  # never checked

    def forward(self, X):
        if not self.training or self.p == 0:
            return X
        if self.p == 1:
            return torch.zeros_like(X)
        keep = (torch.rand_like(X) >= self.p).to(X.dtype)
        return X * keep / (1 - self.p)
""",
        "should raise ValueError",
    ),
    "q3": (
        """
class DropConnectLinear(nn.Module):
    def __init__(self, in_features, out_features, p):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p = p
        bound = 1 / math.sqrt(in_features)
        weight = torch.empty(out_features, in_features).uniform_(-bound, bound)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))

    def forward(self, X):
        if not self.training:
            return X @ self.weight.T + self.bias
        shape = (X.shape[0], *self.weight.shape)  # a mask per example
        keep = (torch.rand(shape, device=X.device) >= self.p).to(X.dtype)
        W = self.weight * keep / (1 - self.p)
        return torch.einsum("bi,boi->bo", X, W) + self.bias
""",
        "share one weight mask",
    ),
    "q4": (
        """
class GaussianNoise(nn.Module):
    def __init__(self, p):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, X):
        if not self.training or self.p == 0:
            return X
        std = math.sqrt(self.p / (1 - self.p))
        return X + std * torch.randn_like(X)  # added, not multiplied
""",
        "scale with the input",
    ),
    "q5": (
        """
def activation_stats(net, X):
    stats = {}

    def recorder(name):
        def hook(module, inputs, output):
            stats[name] = (output.mean().item(), output.var().item())

        return hook

    for name, module in net.named_modules():
        if next(module.children(), None) is None:
            module.register_forward_hook(recorder(name))  # never removed
    with torch.no_grad():
        net(X)
    return stats
""",
        "hooks left",
    ),
}


@dataclass
class Question:
    """One question of the master notebook, as the author wrote it."""

    name: str
    solution_lines: list[str]  # code between BEGIN and END SOLUTION
    public_tests: list[str]  # test function names
    hidden_tests: list[str]


def read_master() -> dict[str, Question]:
    """Walk the master's raw-cell markers and collect each question's parts."""
    questions: dict[str, Question] = {}
    current, block = None, None
    for cell in nbformat.read(MASTER, as_version=4).cells:
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "raw":
            if first.upper() == "# BEGIN QUESTION":
                name = next(
                    line.split(":", 1)[1].strip()
                    for line in cell.source.splitlines()
                    if line.startswith("name:")
                )
                current = questions[name] = Question(name, [], [], [])
            elif first.upper().startswith("# BEGIN "):
                block = first.split()[-1].lower()
            elif first.upper().startswith("# END "):
                block = None
            continue
        if current is None or cell.cell_type != "code":
            continue
        if block == "solution":
            inside = False
            for line in cell.source.splitlines():
                if line.strip() == "# BEGIN SOLUTION":
                    inside = True
                elif line.strip() == "# END SOLUTION":
                    inside = False
                elif inside and line.strip() and not line.strip().startswith("#"):
                    current.solution_lines.append(line.strip())
        elif block == "tests":
            tree = ast.parse(cell.source)
            name = next(n.name for n in tree.body if isinstance(n, ast.FunctionDef))
            hidden = first.lstrip("# ").upper().startswith("HIDDEN")
            (current.hidden_tests if hidden else current.public_tests).append(name)
    return questions


QUESTIONS = read_master()


def run(args: list[str], cwd: Path) -> subprocess.Popen:
    """Start the venv's Python with `args`; stdout and stderr together."""
    # One thread per kernel: the tensors are small and the gradings run
    # side by side on a machine that may have two cores.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen, what: str, timeout: int = 300) -> str:
    """Wait for `process`; fail with the end of its output unless it succeeded."""
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"{what} failed:\n{output[-5000:]}"
    return output


def answer_cells(nb: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if tag in cell.metadata.get("tags", [])]


def with_answers(student: Path, answers: list[str], path: Path) -> Path:
    """A copy of the student notebook with the answer cells replaced."""
    nb = nbformat.read(student, as_version=4)
    cells = answer_cells(nb, ANSWER_TAG)
    assert len(cells) == len(answers) == len(QUESTIONS)
    for cell, answer in zip(cells, answers, strict=True):
        cell.source = answer.strip()
    path.mkdir()
    nbformat.write(nb, path / NOTEBOOK_NAME)
    return path / NOTEBOOK_NAME


@pytest.fixture(scope="module")
def assigned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run `otter assign` like `make assignment` does, into a temporary folder."""
    out = tmp_path_factory.mktemp("assignment")
    log = finish(
        run(["-m", "otter", "assign", "-v", str(MASTER), str(out / "dist")], cwd=ROOT),
        "otter assign",
    )
    # otter assign grades the reference solutions and fails unless all pass.
    assert "All autograder tests passed." in log, log[-3000:]
    zips = sorted((out / "dist" / "autograder").glob("*-autograder_*.zip"))
    assert len(zips) == 1, zips
    return {
        "root": out,
        "student": out / "dist" / "student" / NOTEBOOK_NAME,
        "autograder": out / "dist" / "autograder" / NOTEBOOK_NAME,
        "zip": zips[0],
    }


@pytest.fixture(scope="module")
def graded(assigned: dict[str, Path]) -> dict[str, dict]:
    """Grade the student notebook as handed out, solved and with mistakes.

    The three gradings run side by side: each spends most of its time
    waiting for a kernel to start.
    """
    root = assigned["root"]
    solutions = [
        cell.source
        for cell in answer_cells(
            nbformat.read(assigned["autograder"], as_version=4), SOLUTION_TAG
        )
    ]
    notebooks = {
        "handed out": assigned["student"],
        "solved": with_answers(assigned["student"], solutions, root / "solved"),
        "mistakes": with_answers(
            assigned["student"],
            [MISTAKES[name][0] for name in QUESTIONS],
            root / "mistakes",
        ),
    }
    processes = {}
    for label, notebook in notebooks.items():
        report = root / f"{label.replace(' ', '-')}.json"
        args = ["-c", GRADE_SCRIPT, str(notebook), str(assigned["zip"]), str(report)]
        processes[label] = (run(args, cwd=notebook.parent), report)
    results = {}
    for label, (process, report) in processes.items():
        finish(process, f"grading the {label} notebook")
        results[label] = json.loads(report.read_text())
    return results


def test_master_has_five_questions_with_public_and_hidden_tests():
    assert list(QUESTIONS) == ["q1", "q2", "q3", "q4", "q5"]
    for question in QUESTIONS.values():
        assert question.solution_lines, question.name
        assert question.public_tests, f"{question.name} has no public test"
        assert question.hidden_tests, f"{question.name} has no hidden test"


def test_student_notebook_has_no_solutions_and_no_hidden_tests(assigned):
    nb = nbformat.read(assigned["student"], as_version=4)
    assert not [cell for cell in nb.cells if cell.cell_type == "raw"]
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN", "ASSIGNMENT CONFIG"):
        assert marker not in code
    for question in QUESTIONS.values():
        leaked = [line for line in question.solution_lines if line in code]
        assert not leaked, f"{question.name}: solution lines in the student notebook"

    # The student's tests travel in the notebook's metadata: public ones only.
    tests = nb.metadata["otter"]["tests"]
    assert sorted(tests) == sorted(QUESTIONS)
    for name, question in QUESTIONS.items():
        assert "hidden=True" not in tests[name]
        for test in question.public_tests:
            assert f"def {test}(" in tests[name]
        for test in question.hidden_tests:
            assert test not in tests[name], f"hidden test {test} handed out"
        assert f'grader.check("{name}")' in code


def test_handed_out_notebook_fails_every_test(graded):
    results = graded["handed out"]
    assert sorted(results) == sorted(QUESTIONS)
    for name, question in QUESTIONS.items():
        cases = results[name]
        # Every test of the autograder ran, the hidden ones included.
        assert len(cases) == len(question.public_tests) + len(question.hidden_tests)
        assert sum(case["hidden"] for case in cases) == len(question.hidden_tests)
        passed = [case["message"] for case in cases if case["passed"]]
        assert not passed, f"{name}: a test passes on the empty answer"


def test_solved_notebook_passes_every_test(graded):
    results = graded["solved"]
    assert sorted(results) == sorted(QUESTIONS)
    for name, question in QUESTIONS.items():
        cases = results[name]
        assert len(cases) == len(question.public_tests) + len(question.hidden_tests)
        failed = [case["message"] for case in cases if not case["passed"]]
        assert not failed, f"{name}: " + "\n".join(failed)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_hidden_tests_catch_a_mistake_the_public_ones_miss(graded, name):
    cases = graded["mistakes"][name]
    public_failures = [
        c["message"] for c in cases if not c["hidden"] and not c["passed"]
    ]
    assert not public_failures, "the mistake should pass the public tests"
    hidden_failures = [c["message"] for c in cases if c["hidden"] and not c["passed"]]
    phrase = MISTAKES[name][1]
    assert any(phrase in message for message in hidden_failures), hidden_failures
