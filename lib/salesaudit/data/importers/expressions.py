"""The mapping expression language: ``derived:`` and ``filter:``, evaluated safely and vectorised.

A mapping file may come from anyone, so its expressions are never handed to ``eval``, ``DataFrame.eval``
or ``DataFrame.query``. :func:`evaluate` parses one with :func:`ast.parse`, checks every node against a
fixed grammar first (nothing runs when any part is not allowed), then computes it on whole columns.

Allowed (full reference with an example each: ``docs/importing.md``):

* column references — a bare name that is a column (``Amount``) or a backticked one (```Deal status```);
* literals — str, int, float, ``True``/``False``/``None``; lists/tuples of literals only after ``in`` or
  as a method argument (a dict of literals too, for ``replace``);
* arithmetic ``+ - * / // % **`` and unary ``-``/``+``;
* comparisons ``== != < <= > >=`` (chains too) and ``in`` / ``not in`` a literal list or tuple;
* boolean logic ``and or not`` and, as pandas writes them, ``& | ~``;
* ``a if cond else b`` (row by row, vectorised with ``where``);
* the methods of :data:`SERIES_METHODS`, ``.str.`` methods of :data:`STR_METHODS` and ``.dt.`` fields of
  :data:`DT_FIELDS`, keyword arguments only from their lists.

Anything else — other attributes, subscripts, calls to names, lambdas, comprehensions, ``@`` variables,
dunder names — is a :class:`~salesaudit.data.contract.DataContractError` of one line::

    acme.yaml: tables.leads.derived.is_won: not allowed in a mapping expression: attribute '__class__'

>>> import pandas as pd
>>> df = pd.DataFrame({"Deal status": ["won", "lost", None], "Amount": [10.0, 20.0, None]})
>>> evaluate('`Deal status` == "won"', df, "m.yaml: tables.opportunities.derived.is_won")[0].tolist()
[True, False, False]
>>> evaluate("Amount.fillna(0) * 2", df, "m.yaml: x")[0].tolist()
[20.0, 40.0, 0.0]
"""

from __future__ import annotations

import ast
import operator
from typing import Any

import numpy as np
import pandas as pd

from salesaudit.errors import DataContractError
from salesaudit.data.dates import to_datetime_safe

__all__ = ["evaluate", "SERIES_METHODS", "STR_METHODS", "DT_FIELDS", "ASTYPE_TYPES"]

# method → keyword arguments it accepts (positional arguments are always evaluated with this grammar)
SERIES_METHODS: dict[str, tuple[str, ...]] = {
    "fillna": ("value",),
    "where": ("cond", "other"),
    "replace": ("to_replace", "value"),
    "isna": (),
    "notna": (),
    "isin": ("values",),
    "abs": (),
    "round": ("decimals",),
    "astype": (),
}
STR_METHODS: dict[str, tuple[str, ...]] = {
    "lower": (),
    "upper": (),
    "strip": ("to_strip",),
    "contains": ("pat", "case", "na"),
    "startswith": ("pat", "na"),
    "endswith": ("pat", "na"),
    "len": (),
    "replace": ("pat", "repl", "n", "case"),
    "slice": ("start", "stop", "step"),
}
DT_FIELDS = ("year", "month", "day", "quarter", "date")
ASTYPE_TYPES = {"str": str, "int": int, "float": float}

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
}
_CMPOPS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_OP_SYMBOLS = {
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitXor: "^",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_NODE_NAMES = {
    ast.Subscript: "subscript",
    ast.Slice: "slice",
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.JoinedStr: "f-string",
    ast.FormattedValue: "f-string",
    ast.NamedExpr: "assignment ':='",
    ast.Starred: "'*' unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Set: "set",
}
_PLACEHOLDER = "_bt{}_"
MAX_LENGTH = 2000
_MAX_POWER = 64  # a literal power larger than this would only freeze the import (9 ** 9 ** 9)


def _fail(where: str, what: str) -> DataContractError:
    return DataContractError(f"{where}: not allowed in a mapping expression: {what}")


def _backticks(expr: str, where: str) -> tuple[str, dict[str, str]]:
    """Replace ```Column name``` by placeholder names (outside string literals); refuse ``@`` variables."""
    out: list[str] = []
    names: dict[str, str] = {}
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch in "'\"":
            j = i + 1
            while j < n and expr[j] != ch:
                j += 2 if expr[j] == "\\" else 1
            out.append(expr[i : j + 1])
            i = j + 1
        elif ch == "`":
            j = expr.find("`", i + 1)
            if j < 0:
                raise DataContractError(f"{where}: not a valid expression (a backtick is not closed)")
            ph = _PLACEHOLDER.format(len(names))
            names[ph] = expr[i + 1 : j]
            out.append(f" {ph} ")
            i = j + 1
        elif ch == "@":
            k = i + 1
            while k < n and (expr[k].isalnum() or expr[k] == "_"):
                k += 1
            raise _fail(where, f"'@' variable '{expr[i:k]}'" if k > i + 1 else "operator '@'")
        else:
            out.append(ch)
            i += 1
    return "".join(out), names


def _expr_children(node: ast.AST) -> list[ast.expr]:
    """The nearest expressions below ``node`` (through arguments, comprehension clauses, keywords)."""
    out: list[ast.expr] = []
    for child in ast.iter_child_nodes(node):
        out += [child] if isinstance(child, ast.expr) else _expr_children(child)
    return out


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, (str, int, float, bool))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float))
    return False


class _Checker:
    """Every node of the tree against the grammar; the problems found, dunder names first, then by position."""

    def __init__(self, names: dict[str, str], columns: set[str]) -> None:
        self.names, self.columns = names, columns
        self.problems: list[tuple[int, int, int, str]] = []
        self.used: list[str] = []

    def bad(self, node: ast.AST, what: str, dunder: bool = False, rank: int = 1) -> None:
        """A problem; the message names the first by rank (dunder 0, construct 1, unknown name 2), then position."""
        pos = (getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)
        self.problems.append((0 if dunder else rank, *pos, what))

    def container(self, node: ast.AST) -> None:
        """A literal list/tuple (or dict, for ``replace``) — allowed only where the caller says so."""
        if isinstance(node, (ast.List, ast.Tuple)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None] + list(node.values)
            if any(k is None for k in node.keys):
                self.bad(node, "'**' unpacking")
        else:
            self.visit(node)
            return
        for item in items:
            if not _is_literal(item):
                self.visit(item)
                self.bad(item, "a list may hold only literals (text, numbers, True/False/None)")

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            if not _is_literal(node):
                self.bad(node, f"literal {type(node.value).__name__}")
        elif isinstance(node, ast.Name):
            if node.id in self.names:
                self.used.append(self.names[node.id])
            elif node.id in self.columns:
                self.used.append(node.id)
            elif node.id.startswith("__"):
                self.bad(node, f"name '{node.id}'", dunder=True)
            else:
                self.bad(node, f"name '{node.id}' (not a column; write `{node.id}` in backticks for a column)", rank=2)
        elif isinstance(node, ast.Attribute):
            self.attribute(node)
        elif isinstance(node, ast.Call):
            self.call(node)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                self.bad(node, f"operator '{_OP_SYMBOLS.get(type(node.op), type(node.op).__name__)}'")
            self.visit(node.left)
            self.visit(node.right)
        elif isinstance(node, ast.UnaryOp):
            self.visit(node.operand)
        elif isinstance(node, ast.BoolOp):
            for v in node.values:
                self.visit(v)
        elif isinstance(node, ast.Compare):
            self.visit(node.left)
            for op, right in zip(node.ops, node.comparators):
                if isinstance(op, (ast.In, ast.NotIn)):
                    if isinstance(right, (ast.List, ast.Tuple)):
                        self.container(right)
                    else:
                        self.visit(right)
                        self.bad(right, "'in' needs a literal list, e.g. x in ['a', 'b']")
                elif type(op) in _CMPOPS:
                    self.visit(right)
                else:
                    self.visit(right)
                    self.bad(node, f"comparison '{_OP_SYMBOLS.get(type(op), type(op).__name__)}'")
        elif isinstance(node, ast.IfExp):
            for v in (node.test, node.body, node.orelse):
                self.visit(v)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Dict)):
            self.container(node)
            self.bad(node, "a list or tuple outside 'in' or a method's arguments")
        else:
            for child in _expr_children(node):
                self.visit(child)
            rank = 3 if isinstance(node, ast.Slice) else 1  # a slice is only ever inside a subscript
            self.bad(node, _NODE_NAMES.get(type(node), type(node).__name__.lower()), rank=rank)

    def attribute(self, node: ast.Attribute, called: bool = False) -> None:
        attr, value = node.attr, node.value
        if attr.startswith("_"):
            self.visit(value)
            self.bad(node, f"attribute '{attr}'", dunder=attr.startswith("__"))
            return
        if isinstance(value, ast.Attribute) and value.attr in ("str", "dt"):
            self.visit(value.value)
            allowed = STR_METHODS if value.attr == "str" else DT_FIELDS
            if attr not in allowed:
                self.bad(node, f"attribute '.{value.attr}.{attr}'")
            elif value.attr == "str" and not called:
                self.bad(node, f"'.str.{attr}' must be called: .str.{attr}()", rank=2)
            elif value.attr == "dt" and called:
                self.bad(node, f"'.dt.{attr}' is a field, not a method: write .dt.{attr}", rank=2)
            return
        self.visit(value)
        if attr in ("str", "dt"):
            self.bad(node, f"'.{attr}' needs a method or field after it (e.g. .str.lower(), .dt.year)", rank=2)
        elif attr not in SERIES_METHODS:
            self.bad(node, f"attribute '{attr}'")
        elif not called:
            self.bad(node, f"'.{attr}' must be called: .{attr}()", rank=2)

    def call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            self.bad(func, f"call to '{func.id}'", dunder=func.id.startswith("__"))
        elif isinstance(func, ast.Attribute):
            self.attribute(func, called=True)
        else:
            self.visit(func)
            self.bad(func, "a call of something other than a method", rank=3)
        method = func.attr if isinstance(func, ast.Attribute) else ""
        accessor = func.value.attr if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) else ""
        kwargs = STR_METHODS.get(method, ()) if accessor == "str" else SERIES_METHODS.get(method, ())
        if method == "astype" and accessor != "str":
            ok = len(node.args) == 1 and not node.keywords
            arg = node.args[0] if node.args else None
            name = arg.id if isinstance(arg, ast.Name) else arg.value if isinstance(arg, ast.Constant) else None
            if not ok or name not in ASTYPE_TYPES:
                self.bad(node, "astype takes one of str, int, float")
            return
        for arg in node.args:
            self.container(arg)
        for kw in node.keywords:
            if kw.arg is None:
                self.bad(kw.value, "'**' unpacking")
            elif kw.arg not in kwargs:
                self.bad(kw.value, f"keyword '{kw.arg}' of '{method}'", dunder=kw.arg.startswith("__"))
            self.container(kw.value)


class _Accessor:
    def __init__(self, kind: str, series: pd.Series) -> None:
        self.kind, self.series = kind, series


def _as_bool(v: Any) -> Any:
    if isinstance(v, pd.Series):
        return v.fillna(False).astype(bool)
    return bool(v) if v is not None and not (isinstance(v, float) and np.isnan(v)) else False


def _is_text(v: Any) -> bool:
    """Text (a str, or a column holding any): ``*`` on it would repeat it, e.g. a million times."""
    if isinstance(v, pd.Series):
        return not pd.api.types.is_numeric_dtype(v) and pd.api.types.infer_dtype(v, skipna=True) not in (
            "integer",
            "floating",
            "mixed-integer-float",
            "decimal",
            "boolean",
            "empty",
        )
    return isinstance(v, str)


def _dates(s: pd.Series) -> pd.Series:
    """Dates for ``.dt``: a text column is parsed (ISO and other unambiguous forms; unreadable → empty)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s
    return to_datetime_safe(s, format="mixed")


class _Evaluator:
    def __init__(self, df: pd.DataFrame, names: dict[str, str], where: str) -> None:
        self.df, self.names, self.where = df, names, where

    def column(self, name: str) -> pd.Series:
        return self.df[name]

    def literal(self, node: ast.AST) -> Any:
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.literal(e) for e in node.elts]
        if isinstance(node, ast.Dict):
            return {self.literal(k): self.literal(v) for k, v in zip(node.keys, node.values)}
        return self.eval(node)

    def eval(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.column(self.names.get(node.id, node.id))
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left), self.eval(node.right)
            scalars = not isinstance(left, pd.Series) and not isinstance(right, pd.Series)
            if scalars and isinstance(node.op, ast.Pow) and abs(right) > _MAX_POWER:
                raise _fail(self.where, f"a power above {_MAX_POWER}")
            if isinstance(node.op, ast.Mult) and (_is_text(left) or _is_text(right)):
                raise _fail(self.where, "'*' on text (write .astype(float) to use a column as numbers)")
            if isinstance(node.op, (ast.BitAnd, ast.BitOr)):
                left, right = _as_bool(left), _as_bool(right)
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            v = self.eval(node.operand)
            if isinstance(node.op, (ast.Not, ast.Invert)):
                return ~_as_bool(v) if isinstance(v, pd.Series) else not _as_bool(v)
            return -v if isinstance(node.op, ast.USub) else +v
        if isinstance(node, ast.BoolOp):
            values = [_as_bool(self.eval(v)) for v in node.values]
            out = values[0]
            for v in values[1:]:
                out = (out & v) if isinstance(node.op, ast.And) else (out | v)
            return out
        if isinstance(node, ast.Compare):
            left, result = self.eval(node.left), True
            for op, right_node in zip(node.ops, node.comparators):
                if isinstance(op, (ast.In, ast.NotIn)):
                    values = self.literal(right_node)
                    hit = left.isin(values) if isinstance(left, pd.Series) else left in values
                    part, right = (
                        (~hit if isinstance(hit, pd.Series) else not hit) if isinstance(op, ast.NotIn) else hit,
                        None,
                    )
                else:
                    right = self.eval(right_node)
                    part = _CMPOPS[type(op)](left, right)
                result = part if result is True else (_as_bool(result) & _as_bool(part))
                left = right
            return result
        if isinstance(node, ast.IfExp):
            cond = _as_bool(self.eval(node.test))
            body, orelse = self.eval(node.body), self.eval(node.orelse)
            if not isinstance(cond, pd.Series):
                return body if cond else orelse
            body = body if isinstance(body, pd.Series) else pd.Series(body, index=self.df.index, dtype=object)
            return body.where(cond, orelse)
        if isinstance(node, ast.Attribute):
            value = self.eval(node.value)
            if isinstance(value, _Accessor):  # .dt.year …
                return getattr(_dates(value.series).dt, node.attr)
            if not isinstance(value, pd.Series):
                raise _fail(self.where, f"'.{node.attr}' on a literal (methods apply to columns)")
            return _Accessor(node.attr, value)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise _fail(self.where, type(node).__name__.lower())  # the checker stops these first

    def call(self, node: ast.Call) -> Any:
        func = node.func
        assert isinstance(func, ast.Attribute)
        target = self.eval(func.value)
        method = func.attr
        if isinstance(target, _Accessor):
            obj = target.series.astype("string").str if target.kind == "str" else _dates(target.series).dt
        elif isinstance(target, pd.Series):
            obj = target
        else:
            raise _fail(self.where, f"'.{method}()' on a literal (methods apply to columns)")
        if method == "astype" and not isinstance(target, _Accessor):
            arg = node.args[0]
            kind = ASTYPE_TYPES[arg.id if isinstance(arg, ast.Name) else arg.value]
            if kind is str:
                return target.astype("string").astype(object).where(target.notna(), None)
            numbers = pd.to_numeric(target, errors="raise").astype(float)
            return numbers if kind is float else np.trunc(numbers).astype("Int64")
        args = [self.literal(a) for a in node.args]
        kwargs = {kw.arg: self.literal(kw.value) for kw in node.keywords}
        if isinstance(target, _Accessor) and method in ("contains", "startswith", "endswith"):
            kwargs.setdefault("na", False)  # an empty cell does not contain anything (as pandas 3 text)
        if method in ("contains", "replace"):
            kwargs["regex"] = False  # patterns are plain text: a hostile regular expression cannot hang the import
        result = getattr(obj, method)(*args, **kwargs)
        if isinstance(target, _Accessor) and target.kind == "str":
            result = result.astype(object).where(result.notna(), None)
        return result


def evaluate(expr: str, df: pd.DataFrame, where: str) -> tuple[Any, list[str]]:
    """(value, columns used) of one mapping expression on ``df``: a Series aligned with ``df`` or a scalar.

    ``where`` names the place in the mapping for messages (``acme.yaml: tables.leads.derived.is_won``).
    Nothing is computed unless the whole expression is allowed by the grammar (module docstring).
    """
    if not isinstance(expr, str):
        if isinstance(expr, (bool, int, float)) or expr is None:
            return expr, []
        raise DataContractError(f"{where}: an expression must be text (got {type(expr).__name__})")
    if len(expr) > MAX_LENGTH:
        raise DataContractError(f"{where}: expression longer than {MAX_LENGTH:,} characters")
    text, names = _backticks(expr, where)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise DataContractError(f"{where}: not a valid expression ({exc.msg}): {expr}") from None
    except (RecursionError, MemoryError):
        raise DataContractError(f"{where}: expression nested too deeply") from None
    checker = _Checker(names, {str(c) for c in df.columns})
    for col in names.values():
        if col not in df.columns:
            shown = ", ".join(map(str, df.columns[:12])) + (" …" if len(df.columns) > 12 else "")
            raise DataContractError(f"{where}: no column `{col}` (header has: {shown})")
    try:
        checker.visit(tree.body)
    except RecursionError:
        raise DataContractError(f"{where}: expression nested too deeply") from None
    if checker.problems:
        raise _fail(where, min(checker.problems)[3])
    try:
        with np.errstate(all="ignore"):
            value = _Evaluator(df, names, where).eval(tree.body)
    except DataContractError:
        raise
    except Exception as exc:  # a type clash on the data, e.g. text < number
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise DataContractError(f"{where}: cannot be evaluated ({first}): {expr}") from None
    if isinstance(value, _Accessor):
        raise _fail(where, f"'.{value.kind}' needs a method or field after it")
    return value, list(dict.fromkeys(checker.used))
