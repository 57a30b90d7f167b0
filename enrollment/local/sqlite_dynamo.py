"""An embedded DynamoDB engine on SQLite: the subset of the boto3 resource API the store adapters use.

`enrollment.adapters.table.dynamodb_resource()` returns `SqliteDynamo.resource()` while it is installed
(`EmbeddedSeason(..., engine="sqlite")`): the adapters run unchanged, each request costs tens of
microseconds instead of moto's milliseconds, so a season at a city's size can be rehearsed locally.
moto stays the engine the tests and the default demo run on; `tests/contract/test_table_engines.py`
runs one suite against both so that they cannot drift.

What it keeps of DynamoDB:
- the season table's schema: `pk` / `sk` (strings), index `gsi1` on `gsi1pk` / `gsi1sk` (sparse:
  an item is listed when it has both, as strings); keys sort by their UTF-8 bytes;
- items as boto3 gives and takes them: numbers come back as `decimal.Decimal`, floats are refused
  (TypeError, as boto3's serializer does), items over 400 KB are refused (ValidationException);
- condition, filter and key-condition expressions as boto3 condition objects or strings, with
  `ExpressionAttributeNames` / `ExpressionAttributeValues` (undefined or unused placeholders are a
  ValidationException); UpdateExpressions with SET (`+`, `-`, `list_append`, `if_not_exists`),
  REMOVE and ADD of numbers, evaluated against the item as it was before the request;
- a refused condition is botocore's `ClientError` with code `ConditionalCheckFailedException`;
- each request is atomic (one lock); a Query or Scan page ends at `Limit` items or after the item
  that brings what it read (before any filter) to 1 MB, with a LastEvaluatedKey if an item follows,
  forwards or backwards; BatchGetItem takes at most 100 keys; `batch_writer()` sends 25 items a
  BatchWriteItem, `overwrite_by_pkeys` as boto3's;
- other tables keyed by a hash key alone (`create_table(name, hash_key="id", range_key=None)`: the
  idempotency table), which Powertools reaches through `client()`, a low-level client's facade
  (typed AttributeValues; a refused condition returns the old item when asked, ALL_OLD).
- every request is counted in `enrollment.local.calls` under its AWS operation name, with the read
  or write request units DynamoDB's on-demand billing would charge for it (`calls.capacity`, by the
  same rule as moto's requests: enrollment/local/budget.py) and the size of the items it returned
  (`calls.received`; moto's count is the HTTP body, DynamoDB JSON, about 1.5-2x that), and its CPU
  is the service's, not the calling function's (`calls.serving`).

- a Query's ProjectionExpression of top-level attributes (names or `#placeholders`): the items come
  back with only those, while the page's 1 MB and its read units still count the whole items, as
  DynamoDB counts them.

Anything else (sets, binary values, nested projections, nested update paths, ReturnValues, other
indexes, Query on a table without a sort key...)
raises NotImplementedError naming it: never a silently different answer. The index is updated with
the item, so it is read-after-write consistent here, where AWS's is eventually consistent.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import Any, NamedTuple

from boto3.dynamodb.conditions import ConditionBase, ConditionExpressionBuilder
from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from enrollment.local import calls
from enrollment.local.budget import PAGE_BYTES, plain_item_bytes, read_units, write_units

HASH, RANGE = "pk", "sk"
INDEX, INDEX_HASH, INDEX_RANGE = "gsi1", "gsi1pk", "gsi1sk"
ITEM_LIMIT = 400 * 1024  # bytes, as DynamoDB counts an item's size
BATCH_WRITE = 25  # items a BatchWriteItem (boto3's batch_writer flushes at 25)
BATCH_GET = 100  # keys a BatchGetItem
MAX_NUMBER = 10**38  # boto3's serializer keeps 38 significant digits
_TAG = "\x00N"  # a stored number that is not an integer: {"\x00N": "1.5"}
_MISSING = object()
Node = tuple[Any, ...]


class _Invalid(Exception):
    """A request DynamoDB refuses with a ValidationException."""


class _Refused(Exception):
    """A condition that did not hold: `old`, the item as it was, when the request asked for it
    (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""

    def __init__(self, old: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.old = old


def _client_error(code: str, message: str, operation: str, item: dict[str, Any] | None = None) -> ClientError:
    """botocore's error; `item`: the item as it was, typed, as DynamoDB returns it with a refused
    condition when asked (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    if item is not None:
        response["Item"] = _typed(item)
    return ClientError(response, operation)


def _unsupported(what: str) -> NotImplementedError:
    return NotImplementedError(f"the embedded DynamoDB engine does not support {what}")


# Values ------------------------------------------------------------------------------------------


def _canon(value: Any) -> Any:
    """A value as boto3 would send it, checked: numbers int or Decimal, maps and lists rebuilt."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        if abs(value) >= MAX_NUMBER:
            raise _unsupported("numbers of more than 38 digits")
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError("Infinity and NaN not supported")
        number = DYNAMODB_CONTEXT.create_decimal(value)  # raises as boto3 does beyond 38 digits
        return int(number) if number == number.to_integral_value() else number
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"map keys must be strings, not {type(k).__name__}")
            if k.startswith("\x00"):
                raise _unsupported("map keys starting with NUL")
            out[k] = _canon(v)
        return out
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    if isinstance(value, set | frozenset | bytes | bytearray) or type(value).__name__ == "Binary":
        raise _unsupported(f"{type(value).__name__} values (sets and binary)")
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else {_TAG: str(value.normalize())}
    raise TypeError(f"cannot store {type(value).__name__}")


def _dump(item: dict[str, Any]) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _TAG in obj:
        return Decimal(obj[_TAG])
    return obj


def _load(body: str) -> dict[str, Any]:
    if "\\u0000" in body:
        tagged: dict[str, Any] = json.loads(body, parse_int=Decimal, parse_float=Decimal, object_hook=_untag)
        return tagged
    item: dict[str, Any] = json.loads(body, parse_int=Decimal, parse_float=Decimal)
    return item


def _check_size(size: int) -> None:
    if size > ITEM_LIMIT:
        raise _Invalid("Item size has exceeded the maximum allowed size")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int | Decimal):
        return "N"
    if isinstance(value, str):
        return "S"
    if value is None:
        return "NULL"
    if isinstance(value, list):
        return "L"
    if isinstance(value, dict):
        return "M"
    raise TypeError(type(value).__name__)


def _equal(a: Any, b: Any) -> bool:
    kind = _kind(a)
    if kind != _kind(b):
        return False
    if kind == "L":
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "M":
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


# Expressions -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<int>\d+)|(?P<op><>|<=|>=|[=<>(),.\[\]+-]))"
)
_COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
_CONDITION_FUNCTIONS = (
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
)


class _Parser:
    """DynamoDB's expression grammar (conditions, key conditions, filters, updates) into tuples."""

    def __init__(self, text: str, what: str) -> None:
        self.what = what
        self.tokens: list[tuple[str, str]] = []
        self.names: set[str] = set()
        self.values: set[str] = set()
        at = 0
        text = text.rstrip()
        while at < len(text):
            m = _TOKEN.match(text, at)
            if m is None or m.end() == at:
                raise _Invalid(f"Invalid {what}: Syntax error; token: {text[at : at + 10]!r}")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            at = m.end()
        self.at = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        i = self.at + offset
        return self.tokens[i] if i < len(self.tokens) else ("end", "")

    def next(self) -> tuple[str, str]:
        token = self.peek()
        self.at += 1
        return token

    def keyword(self, word: str) -> bool:
        kind, text = self.peek()
        if kind == "word" and text.upper() == word:
            self.at += 1
            return True
        return False

    def expect(self, op: str) -> None:
        kind, text = self.next()
        if text != op or kind != "op":
            raise self.error(text)

    def error(self, token: str) -> _Invalid:
        return _Invalid(f"Invalid {self.what}: Syntax error; token: {token or '<EOF>'!r}")

    def done(self) -> None:
        if self.at != len(self.tokens):
            raise self.error(self.peek()[1])

    # conditions

    def condition(self) -> Node:
        node = self.conjunction()
        while self.keyword("OR"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.keyword("AND"):
            node = ("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.keyword("NOT"):
            return ("not", self.negation())
        return self.primary()

    def primary(self) -> Node:
        kind, text = self.peek()
        if kind == "op" and text == "(":
            self.at += 1
            node = self.condition()
            self.expect(")")
            return node
        if kind == "word" and text in _CONDITION_FUNCTIONS and self.peek(1) == ("op", "("):
            self.at += 2
            args = [self.operand()]
            while self.peek() == ("op", ","):
                self.at += 1
                args.append(self.operand())
            self.expect(")")
            return ("fn", text, tuple(args))
        left = self.operand()
        kind, text = self.peek()
        if kind == "op" and text in _COMPARATORS:
            self.at += 1
            return ("cmp", text, left, self.operand())
        if self.keyword("BETWEEN"):
            low = self.operand()
            if not self.keyword("AND"):
                raise self.error(self.peek()[1])
            return ("between", left, low, self.operand())
        if self.keyword("IN"):
            self.expect("(")
            options = [self.operand()]
            while self.peek() == ("op", ","):
                self.at += 1
                options.append(self.operand())
            self.expect(")")
            return ("in", left, tuple(options))
        raise self.error(text)

    def operand(self) -> Node:
        kind, text = self.peek()
        if kind == "value":
            self.at += 1
            self.values.add(text)
            return ("val", text)
        if kind == "word" and text == "size" and self.peek(1) == ("op", "("):
            self.at += 2
            path = self.path()
            self.expect(")")
            return ("size", path)
        return self.path()

    def path(self) -> Node:
        parts: list[str | int] = [self.path_name()]
        while True:
            if self.peek() == ("op", "."):
                self.at += 1
                parts.append(self.path_name())
            elif self.peek() == ("op", "["):
                self.at += 1
                kind, text = self.next()
                if kind != "int":
                    raise self.error(text)
                self.expect("]")
                parts.append(int(text))
            else:
                return ("path", tuple(parts))

    def path_name(self) -> str:
        kind, text = self.next()
        if kind == "name":
            self.names.add(text)
            return text
        if kind == "word":
            return text
        raise self.error(text)

    # updates

    def update(self) -> Node:
        actions: list[Node] = []
        seen: set[str] = set()
        while self.peek()[0] != "end":
            kind, text = self.next()
            clause = text.upper() if kind == "word" else ""
            if clause not in ("SET", "REMOVE", "ADD", "DELETE") or clause in seen:
                raise self.error(text)
            seen.add(clause)
            while True:
                if clause == "SET":
                    path = self.path()
                    self.expect("=")
                    actions.append(("set", path, self.set_value()))
                elif clause == "REMOVE":
                    actions.append(("remove", self.path()))
                elif clause == "ADD":
                    actions.append(("add", self.path(), self.operand()))
                else:
                    raise _unsupported("DELETE in UpdateExpression (sets)")
                if self.peek() != ("op", ","):
                    break
                self.at += 1
        if not actions:
            raise self.error("")
        return tuple(actions)

    def set_value(self) -> Node:
        node = self.set_operand()
        kind, text = self.peek()
        if kind == "op" and text in "+-":
            self.at += 1
            return ("plus" if text == "+" else "minus", node, self.set_operand())
        return node

    def set_operand(self) -> Node:
        kind, text = self.peek()
        if kind == "word" and text in ("list_append", "if_not_exists") and self.peek(1) == ("op", "("):
            self.at += 2
            first = self.set_operand()
            self.expect(",")
            second = self.set_operand()
            self.expect(")")
            if text == "if_not_exists" and first[0] != "path":
                raise self.error(text)
            return (text, first, second)
        if kind == "word" and text == "size":
            raise self.error(text)
        return self.operand()


@lru_cache(maxsize=4096)
def _parsed(text: str, what: str) -> tuple[Node, frozenset[str], frozenset[str]]:
    """An expression's tree and the name and value placeholders it uses (parsed once per text)."""
    parser = _Parser(text, what)
    node = parser.update() if what == "UpdateExpression" else parser.condition()
    parser.done()
    return node, frozenset(parser.names), frozenset(parser.values)


class _Context:
    """One request's expressions with their placeholders resolved."""

    def __init__(self, names: dict[str, str], values: dict[str, Any]) -> None:
        self.names = names
        self.values = values

    def name(self, part: str | int) -> str | int:
        if isinstance(part, str) and part.startswith("#"):
            return self.names[part]
        return part

    def resolve(self, node: Node, item: dict[str, Any]) -> Any:
        kind = node[0]
        if kind == "val":
            return self.values[node[1]]
        if kind == "size":
            found = self.resolve(node[1], item)
            if found is _MISSING:
                return _MISSING
            if isinstance(found, list | dict):
                return len(found)
            raise _unsupported(f"size() of a {_kind(found)} value")
        current: Any = item
        for part in node[1]:
            key = self.name(part)
            if isinstance(key, int):
                if not isinstance(current, list) or key >= len(current):
                    return _MISSING
                current = current[key]
            else:
                if not isinstance(current, dict) or key not in current:
                    return _MISSING
                current = current[key]
        return current

    def holds(self, node: Node, item: dict[str, Any]) -> bool:
        kind = node[0]
        if kind == "or":
            return self.holds(node[1], item) or self.holds(node[2], item)
        if kind == "and":
            return self.holds(node[1], item) and self.holds(node[2], item)
        if kind == "not":
            return not self.holds(node[1], item)
        if kind == "cmp":
            return _compare(node[1], self.resolve(node[2], item), self.resolve(node[3], item))
        if kind == "between":
            x, low, high = (self.resolve(n, item) for n in node[1:])
            return _compare(">=", x, low) and _compare("<=", x, high)
        if kind == "in":
            x = self.resolve(node[1], item)
            return x is not _MISSING and any(_compare("=", x, self.resolve(o, item)) for o in node[2])
        name, args = node[1], node[2]
        if any(a[0] != "path" for a in args[:1]):
            raise _Invalid(f"Invalid ConditionExpression: {name} needs a document path first")
        x = self.resolve(args[0], item)
        if name == "attribute_exists":
            return x is not _MISSING
        if name == "attribute_not_exists":
            return x is _MISSING
        y = self.resolve(args[1], item) if len(args) > 1 else _MISSING
        if name == "attribute_type":
            return x is not _MISSING and _kind(x) == y
        if name == "begins_with":
            return isinstance(x, str) and isinstance(y, str) and x.startswith(y)
        if isinstance(x, str) and isinstance(y, str):  # contains
            return y in x
        return isinstance(x, list) and y is not _MISSING and any(_equal(e, y) for e in x)

    def update(
        self, actions: Node, item: dict[str, Any], keys: tuple[str, ...] = (HASH, RANGE)
    ) -> dict[str, Any]:
        """The item after the actions, each evaluated against the item as it was."""
        new = dict(item)
        touched: set[str] = set()
        for action in actions:
            attribute = self.top(action[1])
            if attribute in touched:
                raise _Invalid(
                    "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
                    f"rewrite one of these paths; path one: [{attribute}], path two: [{attribute}]"
                )
            touched.add(attribute)
            if attribute in keys:
                raise _Invalid(
                    f"One or more parameter values were invalid: Cannot update attribute {attribute}. "
                    "This attribute is part of the key"
                )
            if action[0] == "set":
                new[attribute] = self.value(action[2], item)
            elif action[0] == "remove":
                new.pop(attribute, None)
            else:  # add
                amount = self.resolve(action[2], item)
                before = item.get(attribute, _MISSING)
                if _kind(amount) != "N" or (before is not _MISSING and _kind(before) != "N"):
                    if _kind(amount) == "N" or before is _MISSING:
                        raise _Invalid("An operand in the update expression has an incorrect data type")
                    raise _unsupported("ADD of sets")
                new[attribute] = (
                    amount if before is _MISSING else _number(DYNAMODB_CONTEXT.add(before, amount))
                )
        return new

    def top(self, path: Node) -> str:
        parts = path[1]
        if len(parts) != 1:
            raise _unsupported("nested document paths in an UpdateExpression")
        name = self.name(parts[0])
        assert isinstance(name, str)
        return name

    def value(self, node: Node, item: dict[str, Any]) -> Any:
        kind = node[0]
        if kind in ("plus", "minus", "list_append"):
            a, b = self.value(node[1], item), self.value(node[2], item)
            if a is _MISSING or b is _MISSING:
                raise _Invalid(
                    "The provided expression refers to an attribute that does not exist in the item"
                )
            wanted = "L" if kind == "list_append" else "N"
            if _kind(a) != wanted or _kind(b) != wanted:
                raise _Invalid("An operand in the update expression has an incorrect data type")
            if kind == "list_append":
                return [*a, *b]
            op = DYNAMODB_CONTEXT.add if kind == "plus" else DYNAMODB_CONTEXT.subtract
            return _number(op(a, b))
        if kind == "if_not_exists":
            found = self.resolve(node[1], item)
            return self.value(node[2], item) if found is _MISSING else found
        found = self.resolve(node, item)
        if found is _MISSING:
            raise _Invalid("The provided expression refers to an attribute that does not exist in the item")
        return found


def _number(value: Decimal) -> int | Decimal:
    return int(value) if value == value.to_integral_value() else value


def _compare(op: str, x: Any, y: Any) -> bool:
    if x is _MISSING or y is _MISSING:
        return op == "<>" and not (x is _MISSING and y is _MISSING)
    if op == "=":
        return _equal(x, y)
    if op == "<>":
        return not _equal(x, y)
    kind = _kind(x)
    if kind not in ("N", "S") or kind != _kind(y):
        return False
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def _successor(prefix: bytes) -> bytes | None:
    """The smallest byte string above every string that starts with `prefix` (None: there is none)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


# The engine --------------------------------------------------------------------------------------

# `size`: the item's size as DynamoDB counts it (budget.plain_item_bytes), for its request units and
# a page's 1 MB. A table without a sort key stores its items under sk = b"".
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    pk BLOB NOT NULL, sk BLOB NOT NULL, gsi1pk BLOB, gsi1sk BLOB, body TEXT NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gsi1 ON items (gsi1pk, gsi1sk) WHERE gsi1pk IS NOT NULL;
"""
# one process owns the file (no lock taken per request: 3x faster), nothing is synced (a season's
# table is thrown away with it), the rollback journal in memory (a BatchWriteItem's rollback)
_PRAGMAS = (
    "locking_mode = EXCLUSIVE",
    "journal_mode = MEMORY",
    "synchronous = OFF",
    "cache_size = -131072",
    "temp_store = MEMORY",
)
_SERIALIZER, _DESERIALIZER = TypeSerializer(), TypeDeserializer()


@dataclass(frozen=True)
class _Schema:
    """A table's key attributes: the season table's `pk` / `sk` (and its index `gsi1`), or a hash key
    alone (the idempotency table's `id`), without an index."""

    hash: str = HASH
    range: str | None = RANGE

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.hash,) if self.range is None else (self.hash, self.range)

    @property
    def indexed(self) -> bool:
        return (self.hash, self.range) == (HASH, RANGE)


_SEASON = _Schema()


class _Stored(NamedTuple):
    db: sqlite3.Connection
    schema: _Schema


class SqliteDynamo:
    """The engine: one SQLite database a table in `directory` (a temporary one if not given), one lock.

    `create_table(name)` first (a table the engine does not have is ResourceNotFoundException, as in
    AWS); `resource()` is what `enrollment.adapters.table.ENGINE` is set to, `client()` what
    `enrollment.adapters.table.ENGINE_CLIENT` is set to (Powertools' idempotency layer)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="season-table-") if directory is None else None
        self.directory = Path(self._tmp.name if self._tmp else str(directory))
        self.lock = threading.RLock()
        self._tables: dict[str, _Stored] = {}
        self._resource = Resource(self)
        self._client = Client(self)

    def create_table(self, name: str, hash_key: str = HASH, range_key: str | None = RANGE) -> None:
        """A table keyed `hash_key` (and `range_key`: None for none); the one keyed pk / sk has the
        index gsi1 on gsi1pk / gsi1sk."""
        with self.lock:
            if name in self._tables:
                raise _client_error("ResourceInUseException", f"Table already exists: {name}", "CreateTable")
            db = sqlite3.connect(
                self.directory / f"{name}.sqlite3",
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
            for pragma in _PRAGMAS:
                db.execute(f"PRAGMA {pragma}")
            db.executescript(_SCHEMA)
            self._tables[name] = _Stored(db, _Schema(hash_key, range_key))

    def resource(self) -> Resource:
        return self._resource

    def client(self) -> Client:
        return self._client

    def close(self) -> None:
        with self.lock:
            for stored in self._tables.values():
                stored.db.close()
            self._tables.clear()
            if self._tmp is not None:
                self._tmp.cleanup()

    def __enter__(self) -> SqliteDynamo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def request(self, operation: str) -> Iterator[None]:
        """One request: counted, atomic, its refusals as botocore's ClientError. Its CPU is the
        service's, not the calling function's (`calls.serving`); its request units are reported
        (`calls.capacity`) by the operation, as DynamoDB's on-demand billing counts them."""
        calls.count("dynamodb", operation)
        with calls.serving(), self.lock:
            try:
                yield
            except _Invalid as e:
                raise _client_error("ValidationException", str(e), operation) from None
            except _Refused as e:
                raise _client_error(
                    "ConditionalCheckFailedException", "The conditional request failed", operation, e.old
                ) from None

    def table(self, name: str, operation: str) -> _Stored:
        try:
            return self._tables[name]
        except KeyError:
            raise _client_error(
                "ResourceNotFoundException", "Requested resource not found", operation
            ) from None

    def batch_get_item(self, RequestItems: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        _only("BatchGetItem", kwargs, ())
        with self.request("BatchGetItem"):
            total = sum(len(r.get("Keys", [])) for r in RequestItems.values())
            if total > BATCH_GET:
                raise _Invalid("Too many items requested for the BatchGetItem call")
            responses: dict[str, list[dict[str, Any]]] = {}
            units = 0.0
            received = 0
            for name, request in RequestItems.items():
                _only("BatchGetItem", {k: v for k, v in request.items() if k != "Keys"}, ("ConsistentRead",))
                db, schema = self.table(name, "BatchGetItem")
                keys = [_key(k, schema) for k in request.get("Keys", [])]
                if not keys:
                    raise _Invalid(
                        "1 validation error detected: Keys must have length greater than or equal to 1"
                    )
                if len(set(keys)) != len(keys):
                    raise _Invalid("Provided list of item keys contains duplicates")
                consistent = bool(request.get("ConsistentRead"))
                found = []
                for pk, sk in keys:
                    row = db.execute(_GET, (pk, sk)).fetchone()
                    if row is not None:
                        found.append(_load(row[0]))
                        units += read_units(row[1], consistent)  # each item a GetItem
                        received += row[1]
                responses[name] = found
            calls.capacity("read", units)
            calls.received(received)
            return {"Responses": responses, "UnprocessedKeys": {}}


class Resource:
    """What `boto3.resource("dynamodb")` offers the adapters: `Table(name)` and `batch_get_item`."""

    def __init__(self, engine: SqliteDynamo) -> None:
        self.engine = engine
        self.meta = SimpleNamespace(client=SimpleNamespace(batch_get_item=engine.batch_get_item))

    def Table(self, name: str) -> Table:
        return Table(self.engine, name)

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        return self.engine.batch_get_item(**kwargs)


class Client:
    """What `boto3.client("dynamodb")` offers Powertools' idempotency layer (DynamoDBPersistenceLayer):
    PutItem, GetItem, UpdateItem and DeleteItem taking and answering typed AttributeValues
    (`{"S": "..."}`), converted with boto3's TypeSerializer / TypeDeserializer around the same
    requests as the resource's (so counted and priced alike). A refused condition's ClientError holds
    the item as it was (`Item`, typed) when ReturnValuesOnConditionCheckFailure is ALL_OLD."""

    def __init__(self, engine: SqliteDynamo) -> None:
        self.engine = engine
        self.meta = SimpleNamespace(region_name=None)  # no `events`: Powertools' user-agent hook skips it

    def put_item(self, *, TableName: str, **kwargs: Any) -> dict[str, Any]:
        return self._request(Table.put_item, TableName, kwargs)

    def get_item(self, *, TableName: str, **kwargs: Any) -> dict[str, Any]:
        return self._request(Table.get_item, TableName, kwargs)

    def update_item(self, *, TableName: str, **kwargs: Any) -> dict[str, Any]:
        return self._request(Table.update_item, TableName, kwargs)

    def delete_item(self, *, TableName: str, **kwargs: Any) -> dict[str, Any]:
        return self._request(Table.delete_item, TableName, kwargs)

    def _request(self, method: Any, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        with calls.serving():
            plain = {
                k: {a: _DESERIALIZER.deserialize(v) for a, v in value.items()}
                if k in ("Item", "Key", "ExpressionAttributeValues")
                else value
                for k, value in kwargs.items()
            }
        answer: dict[str, Any] = method(Table(self.engine, name), **plain)
        with calls.serving():
            return {k: _typed(v) if k in ("Item", "Attributes") else v for k, v in answer.items()}


def _typed(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _SERIALIZER.serialize(v) for k, v in item.items()}


_EXPRESSION_FIELDS = ("KeyConditionExpression", "ConditionExpression", "FilterExpression", "UpdateExpression")


_TOP_LEVEL = re.compile(r"#?[A-Za-z_][A-Za-z0-9_]*")


def _projection(kwargs: Mapping[str, Any]) -> list[str]:
    """A request's ProjectionExpression as its attribute names or placeholders ([]: none): top-level
    attributes only."""
    expression = kwargs.get("ProjectionExpression")
    if expression is None:
        return []
    if not isinstance(expression, str) or not expression.strip():
        raise _Invalid("Invalid ProjectionExpression: The expression can not be empty;")
    paths = [p.strip() for p in expression.split(",")]
    for p in paths:
        if not _TOP_LEVEL.fullmatch(p):
            raise _unsupported(f"the projection {p!r} (only top-level attributes)")
    return paths


def _only(operation: str, kwargs: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for k, v in kwargs.items():
        if (
            k not in allowed
            and not (k == "ReturnValues" and v == "NONE")
            and not (k == "Select" and v == "ALL_ATTRIBUTES")
            and not (k == "ReturnValuesOnConditionCheckFailure" and v in ("NONE", "ALL_OLD"))
        ):
            raise _unsupported(f"{operation} with {k}={v!r}")


def _key(key: Mapping[str, Any], schema: _Schema = _SEASON) -> tuple[bytes, bytes]:
    names = schema.keys
    if len(key) != len(names) or any(n not in key for n in names):
        raise _Invalid("The provided key element does not match the schema")
    values = [key[n] for n in names]
    if not all(isinstance(v, str) for v in values):
        raise _Invalid("The provided key element does not match the schema")
    if not all(values):
        raise _Invalid(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
            "contain an empty string value."
        )
    return str(values[0]).encode(), str(values[1]).encode() if len(values) > 1 else b""


def _row(
    item: dict[str, Any], schema: _Schema = _SEASON
) -> tuple[bytes, bytes, bytes | None, bytes | None, str, int]:
    """The SQLite row of an item, its size last (checked as DynamoDB checks a put)."""
    for attribute in schema.keys:
        if attribute not in item:
            raise _Invalid(
                f"One or more parameter values were invalid: Missing the key {attribute} in the item"
            )
    pk, sk = _key({a: item[a] for a in schema.keys}, schema)
    gpk: bytes | None = None
    gsk: bytes | None = None
    if schema.indexed:
        listed: list[bytes | None] = []
        for attribute in (INDEX_HASH, INDEX_RANGE):
            value = item.get(attribute)
            if (value is not None and not isinstance(value, str)) or (attribute in item and value is None):
                raise _Invalid(
                    f"One or more parameter values were invalid: Type mismatch for Index Key {attribute} "
                    f"Expected: S Actual: {_kind(value)} IndexName: {INDEX}"
                )
            if value == "":
                raise _Invalid(
                    "One or more parameter values are not valid. A value specified for a secondary index key "
                    "is not supported. The AttributeValue for a key attribute cannot contain an empty string value."
                )
            listed.append(value.encode() if isinstance(value, str) else None)
        if None not in listed:
            gpk, gsk = listed
    size = plain_item_bytes(item)
    _check_size(size)
    return pk, sk, gpk, gsk, _dump(item), size


_PUT = "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, body, size) VALUES (?, ?, ?, ?, ?, ?)"
_GET = "SELECT body, size FROM items WHERE pk = ? AND sk = ?"
_SIZE = "SELECT size FROM items WHERE pk = ? AND sk = ?"
_DELETE = "DELETE FROM items WHERE pk = ? AND sk = ?"


def _stored_size(db: sqlite3.Connection, pk: bytes, sk: bytes) -> int:
    row = db.execute(_SIZE, (pk, sk)).fetchone()
    return int(row[0]) if row is not None else 0


def _all_old(kwargs: Mapping[str, Any]) -> bool:
    return kwargs.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"


class Table:
    """One table's requests, as boto3's Table resource takes and answers them."""

    def __init__(self, engine: SqliteDynamo, name: str) -> None:
        self.engine = engine
        self.name = self.table_name = name
        self.meta = SimpleNamespace(client=SimpleNamespace(batch_get_item=engine.batch_get_item))

    # expressions

    def _expressions(self, kwargs: dict[str, Any]) -> tuple[dict[str, Node], _Context]:
        """The request's expressions parsed (boto3 condition objects built as boto3 builds them), and
        their placeholders, checked as DynamoDB checks them."""
        names: dict[str, str] = dict(kwargs.get("ExpressionAttributeNames") or {})
        raw_values: dict[str, Any] = dict(kwargs.get("ExpressionAttributeValues") or {})
        builder: ConditionExpressionBuilder | None = None
        parsed: dict[str, Node] = {}
        used_names: set[str] = set()
        used_values: set[str] = set()
        for field in _EXPRESSION_FIELDS:
            expression = kwargs.get(field)
            if expression is None:
                continue
            if isinstance(expression, ConditionBase):
                builder = builder or ConditionExpressionBuilder()
                built = builder.build_expression(
                    expression, is_key_condition=field == "KeyConditionExpression"
                )
                names.update(built.attribute_name_placeholders)
                raw_values.update(built.attribute_value_placeholders)
                expression = built.condition_expression
            if not isinstance(expression, str):
                raise _Invalid(f"{field} must be a string or a boto3 condition")
            node, node_names, node_values = _parsed(expression, field)
            parsed[field] = node
            used_names |= node_names
            used_values |= node_values
        used_names |= {p for p in _projection(kwargs) if p.startswith("#")}
        for placeholder in sorted(used_names - names.keys()):
            raise _Invalid(
                "An expression attribute name used in the document path is not defined; "
                f"attribute name: {placeholder}"
            )
        for placeholder in sorted(used_values - raw_values.keys()):
            raise _Invalid(
                f"An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            )
        if unused := names.keys() - used_names:
            raise _Invalid(
                f"Value provided in ExpressionAttributeNames unused in expressions: keys: {{{', '.join(sorted(unused))}}}"
            )
        if unused := raw_values.keys() - used_values:
            raise _Invalid(
                f"Value provided in ExpressionAttributeValues unused in expressions: keys: {{{', '.join(sorted(unused))}}}"
            )
        return parsed, _Context(names, {k: _canon(v) for k, v in raw_values.items()})

    @staticmethod
    def _existing(db: sqlite3.Connection, pk: bytes, sk: bytes) -> tuple[dict[str, Any] | None, int]:
        """The item stored under the key and its size (None, 0: none)."""
        row = db.execute(_GET, (pk, sk)).fetchone()
        return (_load(row[0]), int(row[1])) if row is not None else (None, 0)

    # single items: each charged 1 write unit per KB of the larger of the item before and after (a
    # refused condition too), a read 1 unit per 4 KB (half if eventually consistent)

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        _only(
            "PutItem",
            kwargs,
            ("Item", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"),
        )
        with self.engine.request("PutItem"):
            db, schema = self.engine.table(self.name, "PutItem")
            expressions, context = self._expressions(kwargs)
            item = _canon(kwargs["Item"])
            row = _row(item, schema)
            condition = expressions.get("ConditionExpression")
            if condition is None:
                calls.capacity("write", write_units(_stored_size(db, row[0], row[1]), row[5]))
            else:
                existing, old = self._existing(db, row[0], row[1])
                calls.capacity("write", write_units(old, row[5]))
                if not context.holds(condition, existing or {}):
                    raise _Refused(existing if _all_old(kwargs) else None)
            db.execute(_PUT, row)
            return {}

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        _only("GetItem", kwargs, ("Key", "ConsistentRead"))
        with self.engine.request("GetItem"):
            db, schema = self.engine.table(self.name, "GetItem")
            item, size = self._existing(db, *_key(kwargs["Key"], schema))
            calls.capacity("read", read_units(size, bool(kwargs.get("ConsistentRead"))))
            calls.received(size)
            return {"Item": item} if item is not None else {}

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        _only(
            "UpdateItem",
            kwargs,
            (
                "Key",
                "UpdateExpression",
                "ConditionExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
            ),
        )
        with self.engine.request("UpdateItem"):
            db, schema = self.engine.table(self.name, "UpdateItem")
            if "UpdateExpression" not in kwargs:
                raise _unsupported("UpdateItem without an UpdateExpression")
            expressions, context = self._expressions(kwargs)
            key = dict(kwargs["Key"])
            pk, sk = _key(key, schema)
            existing, old = self._existing(db, pk, sk)
            condition = expressions.get("ConditionExpression")
            if condition is not None and not context.holds(condition, existing or {}):
                calls.capacity("write", write_units(old))
                raise _Refused(existing if _all_old(kwargs) else None)
            after = context.update(
                expressions["UpdateExpression"], existing if existing is not None else key, schema.keys
            )
            row = _row(after, schema)
            calls.capacity("write", write_units(old, row[5]))
            db.execute(_PUT, row)
            return {}

    def delete_item(self, **kwargs: Any) -> dict[str, Any]:
        _only(
            "DeleteItem",
            kwargs,
            ("Key", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues"),
        )
        with self.engine.request("DeleteItem"):
            db, schema = self.engine.table(self.name, "DeleteItem")
            expressions, context = self._expressions(kwargs)
            pk, sk = _key(kwargs["Key"], schema)
            condition = expressions.get("ConditionExpression")
            if condition is None:
                calls.capacity("write", write_units(_stored_size(db, pk, sk)))
            else:
                existing, old = self._existing(db, pk, sk)
                calls.capacity("write", write_units(old))
                if not context.holds(condition, existing or {}):
                    raise _Refused(existing if _all_old(kwargs) else None)
            db.execute(_DELETE, (pk, sk))
            return {}

    # reads of many: pages of at most `Limit` items and 1 MB, each charged for the items it read

    def query(self, **kwargs: Any) -> dict[str, Any]:
        _only(
            "Query",
            kwargs,
            (
                "KeyConditionExpression",
                "IndexName",
                "FilterExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "Limit",
                "ExclusiveStartKey",
                "ScanIndexForward",
                "ConsistentRead",
                "ProjectionExpression",
            ),
        )
        with self.engine.request("Query"):
            db, schema = self.engine.table(self.name, "Query")
            if schema.range is None:
                raise _unsupported("Query on a table without a sort key")
            index = kwargs.get("IndexName")
            if index not in (None, INDEX) or (index and not schema.indexed):
                raise _Invalid(f"The table does not have the specified index: {index}")
            if index and kwargs.get("ConsistentRead"):
                raise _Invalid("Consistent reads are not supported on global secondary indexes")
            if "KeyConditionExpression" not in kwargs:
                raise _Invalid(
                    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."
                )
            expressions, context = self._expressions(kwargs)
            hash_attr, range_attr = (INDEX_HASH, INDEX_RANGE) if index else (HASH, RANGE)
            where, params = _key_condition(
                expressions["KeyConditionExpression"], context, hash_attr, range_attr
            )
            forward = kwargs.get("ScanIndexForward", True)
            start = kwargs.get("ExclusiveStartKey")
            if start is not None:
                clause, start_params = _after(start, index is not None, forward)
                where.append(clause)
                params += start_params
            direction = "" if forward else " DESC"
            order = f"gsi1sk{direction}, pk{direction}, sk{direction}" if index else f"sk{direction}"
            return self._page(
                db, schema, where, params, order, kwargs, expressions, context, index is not None
            )

    def scan(self, **kwargs: Any) -> dict[str, Any]:
        _only(
            "Scan",
            kwargs,
            (
                "FilterExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "Limit",
                "ExclusiveStartKey",
                "ConsistentRead",
            ),
        )
        with self.engine.request("Scan"):
            db, schema = self.engine.table(self.name, "Scan")
            expressions, context = self._expressions(kwargs)
            where: list[str] = []
            params: list[Any] = []
            start = kwargs.get("ExclusiveStartKey")
            if start is not None:
                pk, sk = _key(start, schema)
                where.append("(pk, sk) > (?, ?)")
                params += [pk, sk]
            return self._page(db, schema, where, params, "pk, sk", kwargs, expressions, context, False)

    def _page(
        self,
        db: sqlite3.Connection,
        schema: _Schema,
        where: list[str],
        params: list[Any],
        order: str,
        kwargs: dict[str, Any],
        expressions: dict[str, Node],
        context: _Context,
        listed: bool,
    ) -> dict[str, Any]:
        """One page: the items in order up to `Limit` or to the one that brings what the page read
        (before any filter) to 1 MB, as DynamoDB stops; LastEvaluatedKey if an item follows."""
        limit = kwargs.get("Limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise _Invalid("1 validation error detected: Value at 'limit' failed to satisfy constraint")
        sql = "SELECT body, size FROM items"
        if listed:
            where = ["gsi1pk IS NOT NULL", *where]
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {limit + 1}"
        scanned: list[dict[str, Any]] = []
        sizes: list[int] = []
        read = 0
        more = False
        cursor = db.execute(sql, params)
        try:
            for body, size in cursor:
                if len(scanned) == limit or read >= PAGE_BYTES:
                    more = True
                    break
                scanned.append(_load(body))
                sizes.append(size)
                read += size
        finally:
            cursor.close()
        calls.capacity("read", read_units(read, bool(kwargs.get("ConsistentRead"))))
        condition = expressions.get("FilterExpression")
        if condition is None:
            items = scanned
        else:
            kept = [(i, n) for i, n in zip(scanned, sizes, strict=True) if context.holds(condition, i)]
            items = [i for i, _ in kept]
            read = sum(n for _, n in kept)
        if projection := [context.names.get(p, p) for p in _projection(kwargs)]:
            items = [{a: i[a] for a in projection if a in i} for i in items]
            read = sum(plain_item_bytes(i) for i in items)
        calls.received(read)
        answer: dict[str, Any] = {"Items": items, "Count": len(items), "ScannedCount": len(scanned)}
        if more:
            last = scanned[-1]
            keys = (HASH, RANGE, INDEX_HASH, INDEX_RANGE) if listed else schema.keys
            answer["LastEvaluatedKey"] = {k: last[k] for k in keys}
        return answer

    def batch_writer(self, overwrite_by_pkeys: list[str] | None = None) -> BatchWriter:
        if overwrite_by_pkeys is not None and sorted(overwrite_by_pkeys) != [HASH, RANGE]:
            raise _unsupported(f"overwrite_by_pkeys={overwrite_by_pkeys!r}")
        return BatchWriter(self, overwrite_by_pkeys is not None)

    def batch_write(self, requests: list[tuple[str, dict[str, Any]]]) -> None:
        """One BatchWriteItem: ("put", item) and ("delete", key) requests, at most 25; each item
        charged as its own PutItem or DeleteItem."""
        with self.engine.request("BatchWriteItem"):
            db, schema = self.engine.table(self.name, "BatchWriteItem")
            rows: list[tuple[tuple[bytes, bytes], tuple[Any, ...] | None]] = []
            for kind, value in requests:
                if kind == "put":
                    row = _row(_canon(value), schema)
                    rows.append((row[:2], row))
                else:
                    rows.append((_key(value, schema), None))
            keys = [key for key, _ in rows]
            if len(set(keys)) != len(keys):
                raise _Invalid("Provided list of item keys contains duplicates")
            units = 0.0
            db.execute("BEGIN")
            try:
                for key, put in rows:
                    units += write_units(_stored_size(db, *key), put[5] if put is not None else 0)
                    if put is not None:
                        db.execute(_PUT, put)
                    else:
                        db.execute(_DELETE, key)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            calls.capacity("write", units)


class BatchWriter:
    """boto3's batch_writer: puts and deletes sent 25 a BatchWriteItem, the rest on leaving."""

    def __init__(self, table: Table, overwrite: bool) -> None:
        self.table = table
        self.overwrite = overwrite
        self.buffer: list[tuple[str, dict[str, Any]]] = []

    def put_item(self, Item: dict[str, Any]) -> None:
        self._add("put", Item)

    def delete_item(self, Key: dict[str, Any]) -> None:
        self._add("delete", Key)

    def _add(self, kind: str, value: dict[str, Any]) -> None:
        if self.overwrite:
            key = (value.get(HASH), value.get(RANGE))
            self.buffer = [(k, v) for k, v in self.buffer if (v.get(HASH), v.get(RANGE)) != key]
        self.buffer.append((kind, value))
        if len(self.buffer) >= BATCH_WRITE:
            self.flush()

    def flush(self) -> None:
        while self.buffer:
            sending, self.buffer = self.buffer[:BATCH_WRITE], self.buffer[BATCH_WRITE:]
            self.table.batch_write(sending)

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.flush()  # boto3 flushes on leaving, even after an error


def _key_condition(
    node: Node, context: _Context, hash_attr: str, range_attr: str
) -> tuple[list[str], list[Any]]:
    """A key condition as SQL: the hash key's equality and at most one range condition."""
    parts = [node[1], node[2]] if node[0] == "and" else [node]
    where: list[str] = []
    params: list[Any] = []
    found_hash = False
    for part in parts:
        kind = part[0]
        target = (
            part[2]
            if kind == "cmp"
            else part[1]
            if kind == "between"
            else part[2][0]
            if kind == "fn"
            else None
        )
        attribute = _key_name(target, context)
        if attribute == hash_attr and kind == "cmp" and part[1] == "=" and not found_hash:
            found_hash = True
            where.append(f"{hash_attr} = ?")
            params.append(_key_value(part[3], context))
        elif attribute == range_attr and kind == "cmp" and part[1] != "<>":
            where.append(f"{range_attr} {part[1]} ?")
            params.append(_key_value(part[3], context))
        elif attribute == range_attr and kind == "between":
            low, high = _key_value(part[2], context), _key_value(part[3], context)
            if low > high:
                raise _Invalid(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
                    "greater than or equal to lower bound"
                )
            where.append(f"{range_attr} BETWEEN ? AND ?")
            params += [low, high]
        elif attribute == range_attr and kind == "fn" and part[1] == "begins_with":
            prefix = _key_value(part[2][1], context)
            where.append(f"{range_attr} >= ?")
            params.append(prefix)
            upper = _successor(prefix)
            if upper is not None:
                where.append(f"{range_attr} < ?")
                params.append(upper)
        else:
            raise _Invalid(f"Query key condition not supported: {part[0]} on {attribute}")
    if not found_hash:
        raise _Invalid(f"Query condition missed key schema element: {hash_attr}")
    return where, params


def _key_name(node: Node | None, context: _Context) -> str | None:
    if node is None or node[0] != "path" or len(node[1]) != 1:
        return None
    name = context.name(node[1][0])
    return name if isinstance(name, str) else None


def _key_value(node: Node, context: _Context) -> bytes:
    value = context.resolve(node, {}) if node[0] == "val" else _MISSING
    if not isinstance(value, str):
        raise _Invalid(
            "One or more parameter values were invalid: Condition parameter type does not match schema type"
        )
    return value.encode()


def _after(start: Mapping[str, Any], listed: bool, forward: bool) -> tuple[str, list[Any]]:
    """The condition of the rows after a page's last evaluated key."""
    op = ">" if forward else "<"
    pk, sk = _key({HASH: start.get(HASH), RANGE: start.get(RANGE)})
    if not listed:
        return f"sk {op} ?", [sk]
    gsk = start.get(INDEX_RANGE)
    if not isinstance(gsk, str) or not isinstance(start.get(INDEX_HASH), str):
        raise _Invalid("The provided starting key is invalid")
    return f"(gsi1sk, pk, sk) {op} (?, ?, ?)", [gsk.encode(), pk, sk]
