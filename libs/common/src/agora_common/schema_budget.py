"""The complexity budget of an owner's JSON Schema: one pure check for every place that takes one.

Validation cost is bounded by the schema, not by its size: `$ref`s let a small schema apply
the same subschema many times to one value (`anyOf` of two refs to the next level, N levels
deep, is 2**N evaluations), and a `$ref` cycle makes a validator recurse until it dies. The
budget counts, over the graph of references, the most subschema evaluations one payload value
can cost, and refuses cycles, deep nesting, many refs and wide combinators.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

Loc = tuple[str | int, ...]

# Keywords whose value is one subschema applied to the value (or to its parts).
_ONE = (
    "not",
    "if",
    "then",
    "else",
    "items",
    "contains",
    "additionalProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_MAP = ("properties", "patternProperties", "dependentSchemas")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_WIDE = ("allOf", "anyOf", "oneOf", "prefixItems")
_REFS = ("$ref", "$dynamicRef")
_UNEVALUATED = ("unevaluatedItems", "unevaluatedProperties")
# An enum is compared member by member: a long one costs like many subschemas.
ENUM_MEMBERS_PER_EVALUATION = 16
_CYCLE = "a $ref cycle (recursive schemas are not allowed)"


@dataclass(frozen=True)
class SchemaBudget:
    max_depth: int = 32  # JSON nesting, in the document and followed through $refs
    max_refs: int = 64  # $ref and $dynamicRef keywords
    max_fan_out: int = 32  # subschemas of one allOf/anyOf/oneOf/prefixItems
    max_evaluations: int = 1_000  # subschema evaluations one payload value can cost


BUDGET = SchemaBudget()


@dataclass(frozen=True)
class SchemaProblem:
    loc: Loc  # where in the schema, from its root
    message: str


@dataclass(frozen=True)
class SchemaAssessment:
    problems: tuple[SchemaProblem, ...]
    evaluations: int  # worst case per payload value (capped just above the budget)

    @property
    def within_budget(self) -> bool:
        return not self.problems


def assess_schema(schema: Any, budget: SchemaBudget = BUDGET) -> SchemaAssessment:
    """The schema's problems against the budget (empty when it fits) and its worst-case cost."""
    deep = _too_deep(schema, budget.max_depth)
    if deep is not None:
        return SchemaAssessment((SchemaProblem(deep, _depth_message(budget)),), 0)
    problems = list(_shape_problems(schema, budget))
    graph = _Graph(schema, budget)
    problems.extend(graph.problems)
    return SchemaAssessment(tuple(problems), graph.evaluations)


def _depth_message(budget: SchemaBudget) -> str:
    return f"nested deeper than {budget.max_depth} levels (counting through $refs)"


def _too_deep(value: Any, limit: int) -> Loc | None:
    """Where a JSON value first nests deeper than `limit`, without recursion."""
    stack: list[tuple[Any, Loc]] = [(value, ())]
    while stack:
        node, loc = stack.pop()
        if len(loc) >= limit:
            return loc
        if isinstance(node, dict):
            stack.extend((child, (*loc, key)) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, (*loc, i)) for i, child in enumerate(node))
    return None


def subschemas(node: Any, loc: Loc) -> Iterator[tuple[Loc, Any]]:
    """The subschemas a validator applies from `node` (not $refs, not unused $defs)."""
    if not isinstance(node, dict):
        return
    for key in _ONE:
        if isinstance(node.get(key), dict | bool):
            yield (*loc, key), node[key]
    for key in _MAP:
        if isinstance(node.get(key), dict):
            for name, child in node[key].items():
                if isinstance(child, dict | bool):
                    yield (*loc, key, name), child
    for key in _LIST:
        if isinstance(node.get(key), list):
            for i, child in enumerate(node[key]):
                if isinstance(child, dict | bool):
                    yield (*loc, key, i), child


def _schema_nodes(schema: Any) -> Iterator[tuple[Loc, dict[str, Any]]]:
    """Every subschema of the document, unused $defs included."""
    stack: list[tuple[Loc, Any]] = [((), schema)]
    while stack:
        loc, node = stack.pop()
        if not isinstance(node, dict):
            continue
        yield loc, node
        children = list(subschemas(node, loc))
        for key in ("$defs", "definitions"):
            if isinstance(node.get(key), dict):
                children.extend(((*loc, key, name), child) for name, child in node[key].items())
        stack.extend(reversed(children))  # depth first, in the document's order


def _shape_problems(schema: Any, budget: SchemaBudget) -> Iterator[SchemaProblem]:
    refs = 0
    for loc, node in _schema_nodes(schema):
        if loc and "$id" in node:
            yield SchemaProblem(
                (*loc, "$id"), "embedded resources ($id below the root) are not allowed"
            )
        for key in _WIDE:
            if isinstance(node.get(key), list) and len(node[key]) > budget.max_fan_out:
                yield SchemaProblem(
                    (*loc, key), f"more than {budget.max_fan_out} subschemas in one {key}"
                )
        for key in _REFS:
            if key in node:
                refs += 1
                if refs == budget.max_refs + 1:
                    yield SchemaProblem((*loc, key), f"more than {budget.max_refs} $refs")


class _Graph:
    """Subschemas and references, walked once from the root: cost, depth and cycles."""

    def __init__(self, schema: Any, budget: SchemaBudget) -> None:
        self._root = schema
        self._budget = budget
        self._anchors = _anchors(schema)
        self.problems: list[SchemaProblem] = []
        self._cost: dict[Loc, int] = {}
        self._depth: dict[Loc, int] = {}
        self._edges: dict[Loc, list[tuple[Loc, int]]] = {}
        self._walk()
        self.evaluations = self._cost.get((), 1)
        if not self.problems:
            self._check_budget()

    def _edges_of(self, loc: Loc, node: Any) -> list[tuple[Loc, int]]:
        """(target, JSON levels from node to target) for every subschema and resolved $ref."""
        edges = [(child, len(child) - len(loc)) for child, _ in subschemas(node, loc)]
        if isinstance(node, dict):
            for key in _REFS:
                ref = node.get(key)
                if not isinstance(ref, str):
                    continue
                target = self._resolve(ref)
                if target is None:
                    self.problems.append(SchemaProblem((*loc, key), _unresolved(ref)))
                else:
                    edges.extend((t, 1) for t in target)
        return edges

    def _resolve(self, ref: str) -> list[Loc] | None:
        """Where a local reference leads; a $dynamicRef to every anchor of its name."""
        if not ref.startswith("#"):
            return None  # another document: never fetched (a validator could, as an SSRF)
        fragment = unquote(ref[1:])
        if not fragment.startswith("/") and fragment:
            return self._anchors.get(fragment)
        loc: list[str | int] = []
        node = self._root
        for raw in fragment.split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                loc.append(part)
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                loc.append(int(part))
                node = node[int(part)]
            else:
                return None
        return [tuple(loc)] if isinstance(node, dict | bool) else None

    def _node(self, loc: Loc) -> Any:
        node = self._root
        for part in loc:
            node = node[part]
        return node

    def _walk(self) -> None:
        """Post-order over the reference graph; a grey target is a cycle."""
        grey: set[Loc] = set()
        cap = self._budget.max_evaluations + 1
        stack: list[tuple[Loc, bool]] = [((), False)]
        while stack:
            loc, done = stack.pop()
            if done:
                grey.discard(loc)
                node = self._node(loc)
                edges = self._edges[loc]
                children = sum(self._cost.get(t, 1) for t, _ in edges)
                if isinstance(node, dict) and any(k in node for k in _UNEVALUATED):
                    children *= 2  # the validator walks the siblings again to see what they covered
                own = 1
                if isinstance(node, dict) and isinstance(node.get("enum"), list):
                    own += len(node["enum"]) // ENUM_MEMBERS_PER_EVALUATION
                self._cost[loc] = min(cap, own + children)
                self._depth[loc] = max((d + self._depth.get(t, 1) for t, d in edges), default=1)
                continue
            if loc in self._cost or loc in grey:
                continue
            grey.add(loc)
            self._edges[loc] = self._edges_of(loc, self._node(loc))
            stack.append((loc, True))
            for target, _ in self._edges[loc]:
                if target in grey:
                    self.problems.append(SchemaProblem(self._ref_loc(loc), _CYCLE))
                elif target not in self._cost:
                    stack.append((target, False))
            if self.problems:
                return

    def _ref_loc(self, loc: Loc) -> Loc:
        node = self._node(loc)
        key = next((k for k in _REFS if isinstance(node, dict) and k in node), None)
        return (*loc, key) if key else loc

    def _check_budget(self) -> None:
        budget = self._budget
        if self._depth[()] > budget.max_depth:
            self.problems.append(SchemaProblem(self._deepest_spot(), _depth_message(budget)))
        if self.evaluations > budget.max_evaluations:
            self.problems.append(
                SchemaProblem(
                    self._costly_spot(),
                    f"one value could cost more than {budget.max_evaluations} subschema "
                    "evaluations (combinators over $refs multiply)",
                )
            )

    def _deepest_spot(self) -> Loc:
        """The first subschema on the deepest path that lies beyond the depth limit."""
        loc: Loc = ()
        depth = 1
        while depth <= self._budget.max_depth and self._edges[loc]:
            target, levels = max(self._edges[loc], key=lambda e: e[1] + self._depth[e[0]])
            loc, depth = target, depth + levels
        return loc

    def _costly_spot(self) -> Loc:
        """The deepest subschema still over budget: where the cost crosses it."""
        loc: Loc = ()
        while True:
            over = [t for t, _ in self._edges[loc] if self._cost[t] > self._budget.max_evaluations]
            if not over:
                return loc
            loc = over[0]


def _unresolved(ref: str) -> str:
    if not ref.startswith("#"):
        return "only local references (starting with #) are allowed"
    return "a reference to nothing in this schema"


def _anchors(schema: Any) -> dict[str, list[Loc]]:
    found: dict[str, list[Loc]] = {}
    for loc, node in _schema_nodes(schema):
        for key in ("$anchor", "$dynamicAnchor"):
            if isinstance(node.get(key), str):
                found.setdefault(node[key], []).append(loc)
    return found
