"""Strict YAML configuration files: typed, unknown keys refused, errors with file:line.

Every configuration file of civic-iot (agent, gateway, sites and devices) is read here,
so they all fail the same way: ``sites/library.yaml:12: devices[0].profil: unknown key``.

JSON is YAML, and a device's agent.yaml is JSON (``civic-iot provision`` writes it so):
such a file is read as JSON, and the YAML parser, a megabyte of every Pi's memory, is
loaded only for a file that is not JSON or to find the line of an error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

if TYPE_CHECKING:
    import yaml

T = TypeVar("T")
_AT = re.compile(r" - at `(?P<where>[^`]*)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]*)`")


class ConfigError(Exception):
    """A configuration file that cannot be used; says which file, line and key."""

    def __init__(self, source: str, reason: str, *, key: str = "", line: int | None = None):
        self.source = source
        self.reason = reason
        self.key = key
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        place = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{place}: {self.key}: {self.reason}" if self.key else f"{place}: {self.reason}"


class Document:
    """Parsed YAML plus the line of every key, for error messages."""

    def __init__(
        self, source: str, data: Any, lines: dict[str, int] | None = None, *, text: str = ""
    ) -> None:
        self.source = source
        self.data = data
        self._lines = lines
        self._text = text  # to find the lines in when they are asked for

    @property
    def lines(self) -> dict[str, int]:
        if self._lines is None:
            self._lines = {}
            node = _compose(self._text) if self._text else None
            if node is not None:
                _record_lines(node, "$", self)
        return self._lines

    def error(self, where: str, reason: str) -> ConfigError:
        """An error about the value at ``where`` (a ``$.a.b[0]`` path)."""
        return ConfigError(self.source, reason, key=_display(where), line=self._line_of(where))

    def _line_of(self, where: str) -> int | None:
        # Fall back to the nearest enclosing key that has a line.
        while where:
            if where in self.lines:
                return self.lines[where]
            cut = max(where.rfind("."), where.rfind("["))
            where = where[:cut] if cut > 0 else ""
        return None


def read(path: Path) -> Document:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None
    return parse(text, str(path))


# Configuration is written by people: a megabyte is far beyond any real file, and a
# YAML alias is how a few hundred bytes expand into gigabytes ("billion laughs").
MAX_YAML_BYTES = 1_000_000


def parse(text: str, source: str) -> Document:
    if len(text.encode("utf-8")) > MAX_YAML_BYTES:
        raise ConfigError(source, f"larger than {MAX_YAML_BYTES:,} bytes; not a config file")
    as_json = _json_document(text)
    if as_json is not None:
        return Document(source, as_json[0], text=text)
    return _parse_yaml(text, source)


def _json_document(text: str) -> tuple[Any] | None:
    """``(data,)`` when the text is JSON after its leading ``#`` comment lines, with no
    key given twice (YAML names that one); else None."""
    body = _LEADING_COMMENTS.sub(lambda match: "\n" * match[0].count("\n"), text)
    if not body.lstrip().startswith(("{", "[")):
        return None
    try:
        return (json.loads(body, object_pairs_hook=_unique_keys, parse_constant=_no_constant),)
    except ValueError:  # json.JSONDecodeError too
        return None


_LEADING_COMMENTS = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)+")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise ValueError("a key given twice")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json would take NaN and Infinity


def _compose(text: str) -> yaml.Node | None:
    import yaml  # noqa: PLC0415 - only for YAML that is not JSON, and errors

    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def _parse_yaml(text: str, source: str) -> Document:
    import yaml  # noqa: PLC0415 - only for YAML that is not JSON, and errors

    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else None
                raise ConfigError(
                    source, f"YAML aliases (*{event.anchor}) are not accepted; write it out",
                    line=line,
                )  # fmt: skip
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, f"not valid YAML: {problem}", line=line) from None
    document = Document(source, data, {})
    if node is not None:
        _record_lines(node, "$", document)
    return document


def convert(document: Document, kind: type[T], *, at: str = "$") -> T:
    """Validate ``document.data`` (or the part at ``at``) against a msgspec type."""
    data = document.data if at == "$" else value_at(document.data, at)
    try:
        return msgspec.convert(data, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise _error(document, str(exc), at, kind) from None


def load(path: Path, kind: type[T]) -> T:
    return convert(read(path), kind)


def _error(document: Document, text: str, at: str, kind: type[Any]) -> ConfigError:
    match = _AT.search(text)
    reason = text[: match.start()] if match else text
    relative = match["where"] if match else "$"
    where = at + relative[1:] if at != "$" else relative
    if reason.startswith("Invalid enum value"):
        allowed = _allowed_values(kind, relative)
        if allowed:
            reason += f", expected one of: {', '.join(map(str, allowed))}"
    unknown = _UNKNOWN.match(reason)
    if unknown:
        where = f"{where}.{unknown['key']}"
        reason = "unknown key (check the spelling; see the documented keys)"
    return document.error(where, reason)


def _allowed_values(kind: type[Any], where: str) -> list[Any]:
    """The values an enum or Literal at ``where`` accepts, to say so in the error."""
    import msgspec.inspect  # noqa: PLC0415 - only on errors; it costs the Pi memory

    info: Any = msgspec.inspect.type_info(kind)
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", where):
        info = _unwrap(info)
        if name and isinstance(info, msgspec.inspect.StructType):
            info = next((f.type for f in info.fields if f.encode_name == name), None)
        elif index and isinstance(info, msgspec.inspect.ListType):
            info = info.item_type
        else:
            return []
    info = _unwrap(info)
    if isinstance(info, msgspec.inspect.EnumType):
        return [member.value for member in info.cls]
    if isinstance(info, msgspec.inspect.LiteralType):
        return list(info.values)
    return []


def _unwrap(info: Any) -> Any:
    """Look through Annotated metadata and Optional to the type that matters."""
    while True:
        if isinstance(info, msgspec.inspect.Metadata):
            info = info.type
        elif isinstance(info, msgspec.inspect.UnionType):
            options = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
            if len(options) != 1:
                return info
            info = options[0]
        else:
            return info


def _record_lines(node: yaml.Node, where: str, document: Document) -> None:
    import yaml  # noqa: PLC0415 - loaded already by whoever made the node

    document.lines.setdefault(where, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{where}.{key}"
            if key in seen:
                raise ConfigError(
                    document.source,
                    "duplicate key",
                    key=_display(child),
                    line=key_node.start_mark.line + 1,
                )
            seen.add(key)
            document.lines[child] = key_node.start_mark.line + 1
            _record_lines(value_node, child, document)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, f"{where}[{index}]", document)


def value_at(data: Any, where: str) -> Any:
    for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", where):
        data = data[part[0]] if part[0] else data[int(part[1])]
    return data


def _display(where: str) -> str:
    return where.removeprefix("$").removeprefix(".") or "(top level)"
