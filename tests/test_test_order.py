"""The order conftest.py gives the collected tests for pytest-xdist's ``worksteal``: every
test kept exactly once, the slow ones dealt out first, and the tests that need no database
first on the second worker, which would otherwise wait while the first builds the test
database. And the tests ``--skip-db-free`` deselects (CI's SQLite pass)."""
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

import conftest


@dataclass(eq=False)
class Item:
    nodeid: str
    fixturenames: tuple = ()
    cls: object = None
    markers: dict = field(default_factory=dict)
    path: Path = Path(__file__)

    def get_closest_marker(self, name):
        return self.markers.get(name)


def ordered(items, workers=2):
    config = SimpleNamespace(workerinput={"workercount": workers}, getoption=lambda name: False)
    items = list(items)
    conftest.pytest_collection_modifyitems(config, items)
    return items


def parts(items, workers=2):
    sizes, left, out, start = [], len(items), [], 0
    for k in range(workers):
        sizes.append(left // (workers - k))
        left -= sizes[-1]
    for size in sizes:
        out.append(items[start:start + size])
        start += size
    return out


def test_every_test_once_slow_first_and_database_free_tests_first_on_the_second_worker():
    slow = [Item(f"tests/test_page_scan.py::test_role[{k}]", ("db", "django_db_setup")) for k in range(4)]
    with_db = [Item(f"enrollment/tests/test_a.py::test_{k}", ("db", "django_db_setup")) for k in range(20)]
    free = [Item(f"insurance_rules/tests/test_b.py::test_{k}") for k in range(6)]
    items = with_db[:10] + free[:3] + slow + with_db[10:] + free[3:]
    result = ordered(items)
    assert sorted(map(id, result)) == sorted(map(id, items))
    first, second = parts(result)
    assert first[:2] == [slow[0], slow[2]]
    assert second[:6] == free, "the second worker starts with the tests that need no database"
    assert second[6:8] == [slow[1], slow[3]]
    assert not set(map(id, free)) & set(map(id, first))


def test_more_database_free_tests_than_a_part_holds_spill_to_the_first_worker():
    slow = [Item("tests/test_page_scan.py::test_role", ("db", "django_db_setup"))]
    free = [Item(f"insurance_rules/tests/test_b.py::test_{k}") for k in range(9)]
    with_db = [Item("enrollment/tests/test_a.py::test_x", ("db", "django_db_setup"))]
    result = ordered(slow + free + with_db)
    assert sorted(map(id, result)) == sorted(map(id, slow + free + with_db))
    first, second = parts(result)
    assert first[0] is slow[0]
    assert second == free[:len(second)]


def test_skip_db_free_deselects_database_free_tests_but_not_those_that_may_differ(tmp_path):
    """Kept: a test on the test database, and one whose module names a database setting
    unless it is marked ``own_database``."""
    mentions, plain = tmp_path / "test_mentions.py", tmp_path / "test_plain.py"
    mentions.write_text(f"ENGINE = {conftest.DATABASE_WORDS[-1]!r}\n", encoding="utf-8")
    plain.write_text("def test(): pass\n", encoding="utf-8")
    with_db = Item("a::test_db", ("db", "django_db_setup"), path=plain)
    named = Item("b::test_named", path=mentions)
    own = Item("b::test_own", path=mentions, markers={"own_database": object()})
    free = Item("a::test_free", path=plain)
    deselected = []
    config = SimpleNamespace(workerinput={}, getoption=lambda name: name == "skip_db_free",
                             hook=SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items)))
    items = [with_db, named, own, free]
    conftest.pytest_collection_modifyitems(config, items)
    assert items == [with_db, named]
    assert deselected == [own, free]


def test_a_database_free_test_cannot_start_a_process_on_the_runs_database(tmp_path):
    with pytest.raises(AssertionError, match="without a DATABASE_URL of its own"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    own = {"DATABASE_URL": str(tmp_path / "own")}  # `python -c pass` opens no database
    assert subprocess.run([sys.executable, "-c", "pass"], env=own).returncode == 0
