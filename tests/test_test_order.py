"""The order conftest.py gives the collected tests for pytest-xdist's ``worksteal``: every
test kept exactly once, the slow ones dealt out first, and the tests that need no database
first on the second worker, which would otherwise wait while the first builds the test
database."""
from dataclasses import dataclass, field
from types import SimpleNamespace

import conftest


@dataclass(eq=False)
class Item:
    nodeid: str
    fixturenames: tuple = ()
    cls: object = None
    markers: dict = field(default_factory=dict)

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
