"""Every package with tests is collected: pytest.ini's ``testpaths`` names each top-level
package that has a ``tests`` folder (the jobs app's tests were once left out)."""
import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_tests_folder_is_in_testpaths():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    collected = set(config["pytest"]["testpaths"].split())
    with_tests = {p.parent.name for p in ROOT.glob("*/tests") if p.is_dir() and not p.parent.name.startswith(".")}
    assert with_tests - {"tests"} <= collected, sorted(with_tests - collected)
