"""The ``import_sheet`` command as a real process (issue 6): its exit status. A module of
its own, without the seed policies of test_sheet_export: the process has a database of
its own, so CI's SQLite pass need not run it again (``own_database``)."""
import os
import subprocess
import sys

import pytest
from django.conf import settings

from enrollment.tests.sheet_rows import id_number
from sheets.tests.helpers import write_csv


@pytest.mark.own_database
def test_import_command_process_exit_status_on_a_bad_file(tmp_path):
    """The real process exits 1 on a bad file (a header error: decided before any query)."""
    bad = write_csv(tmp_path / "bad.csv", ["证件号码", "姓名"], [[id_number(1), "甲"]])
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    proc = subprocess.run([sys.executable, "manage.py", "import_sheet", "persons", str(bad)],
                          capture_output=True, text=True, env=env, cwd=settings.BASE_DIR)
    assert proc.returncode == 1, proc.stderr
    assert "缺少必填列“人员类别”" in proc.stderr
