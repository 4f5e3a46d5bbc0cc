"""Sphinx extension: `hide_solutions` also removes gated solutions.

sphinx-exercise's `hide_solutions = True` drops a `{solution}` directive, but
for the gated form (`{solution-start}` ... `{solution-end}`, the only form
that can hold code cells) it drops just the start marker: the cells in
between stay on the page and the orphaned end marker breaks the HTML writer
(sphinx-exercise issue #89). With this extension loaded after
`sphinx_exercise`, a hidden gated solution leaves a marker node instead, and
a transform removes everything from that marker to its `{solution-end}`.
With `hide_solutions = False` nothing changes.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform


class hidden_solution(nodes.Element):  # noqa: N801 - docutils' node naming
    """Where a hidden gated solution started; removed with its content."""


def _hiding_start_directive():
    from sphinx_exercise.directive import SolutionStartDirective

    class HidingSolutionStart(SolutionStartDirective):
        def run(self):
            result = super().run()  # registers the start for the checks
            if self.env.app.config.hide_solutions:
                return [hidden_solution()]
            return result

    return HidingSolutionStart


class RemoveHiddenSolutions(SphinxTransform):
    """Drop each hidden gated solution: its marker, content and end marker."""

    # Before sphinx-exercise merges gated nodes (priority 10).
    default_priority = 9

    def apply(self, **kwargs) -> None:
        from sphinx_exercise.nodes import solution_end_node as end_type

        for marker in list(self.document.findall(hidden_solution)):
            parent = marker.parent
            start = parent.index(marker)
            siblings = parent.children[start:]
            end = next(
                (i for i, node in enumerate(siblings) if isinstance(node, end_type)),
                None,
            )
            if end is None:
                # sphinx-exercise's own check reports the missing end.
                parent.remove(marker)
                continue
            for node in siblings[: end + 1]:
                parent.remove(node)


def setup(app: Sphinx) -> dict:
    if "sphinx_exercise" not in app.extensions:
        app.setup_extension("sphinx_exercise")
    app.add_node(hidden_solution)
    app.add_directive("solution-start", _hiding_start_directive(), override=True)
    app.add_transform(RemoveHiddenSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
