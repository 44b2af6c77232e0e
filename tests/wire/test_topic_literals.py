"""Nothing outside wire/ spells a topic: every topic comes from wire.topics."""

import ast
from pathlib import Path

from wire import topics

REPO = Path(__file__).resolve().parents[2]
PREFIX = topics.ROOT.split("/")[0] + "/"
SKIP_DIRS = {"wire", ".venv", ".git", "build", ".demo", "node_modules"}


def python_files() -> list[Path]:
    return [
        path
        for path in REPO.rglob("*.py")
        if not SKIP_DIRS.intersection(path.relative_to(REPO).parts)
    ]


def topic_literals(path: Path, root: Path = REPO) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and (PREFIX in node.value or node.value.startswith("$share/")):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value!r}")
    return found


def test_the_scan_sees_the_project() -> None:
    names = {p.relative_to(REPO).parts[0] for p in python_files()}
    assert {"edge", "gateway", "tests"} <= names


def test_no_topic_string_literal_outside_wire() -> None:
    offenders = [hit for path in python_files() for hit in topic_literals(path)]
    assert offenders == []


def test_the_scan_catches_a_literal(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text(
        f"TOPIC = {topics.telemetry('dev-1')!r}\nSHARED = '$share/g/x'\nFINE = 'civic'\n",
        encoding="utf-8",
    )
    assert [hit.split(":")[1] for hit in topic_literals(sample, tmp_path)] == ["1", "2"]
