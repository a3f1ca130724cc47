"""The dependency graph's pure helpers: levels for drawing, and what a migration reaches."""

from __future__ import annotations

from moonshift.domain import dag


def test_levels_put_each_migration_past_its_deepest_dependency() -> None:
    graph = {
        "load": ["extract", "schema"],
        "extract": [],
        "schema": [],
        "report": ["load", "extract"],
        "external": ["not-in-graph"],
    }
    assert dag.levels(graph) == {
        "extract": 0,
        "schema": 0,
        "load": 1,
        "report": 2,
        "external": 0,
    }


def test_a_cycle_still_gets_a_level_and_reach_follows_edges() -> None:
    assert dag.levels({"a": ["b"], "b": ["a"], "c": ["a"]}) == {"a": 0, "b": 0, "c": 0}
    graph = {"d": ["c"], "c": ["b"], "b": ["a"], "a": [], "x": ["a"]}
    assert dag.reachable(graph, "d") == {"c", "b", "a"}
    assert dag.reachable(dag.dependents(graph), "a") == {"b", "c", "d", "x"}
