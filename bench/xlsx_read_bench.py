"""Reading an xlsx file only (issue 17; docs/benchmarks.md): ``SheetFile(path)`` to its
last row through python-calamine, openpyxl's streaming read-only mode, or the reader the
size limit chooses (``auto``); prints seconds, peak RSS and the sheet's XML size. Run
each reader in a fresh process (peak RSS is the process's)::

    .venv/bin/python bench/xlsx_read_bench.py FILE.xlsx calamine|openpyxl|auto

Files: ``bench/import_bench.py``'s ``generate`` (persons/payments, N rows)."""
from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main(path: str, mode: str) -> None:
    import django

    django.setup()
    from sheets import readers

    if mode != "auto":
        readers.XlsxLayout.fits_calamine = lambda self: mode == "calamine"
    started = time.perf_counter()
    sheet = readers.SheetFile(path)
    rows = sum(1 for _ in sheet.rows_with_extra())
    seconds = time.perf_counter() - started
    layout = readers.xlsx_layout(Path(path))
    print(f"{Path(path).name} {mode} -> {sheet.xlsx_reader}: {rows} rows {seconds:.2f} s, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB, sheet XML "
          f"{layout.sheet_bytes / 2**20:.1f} MiB + strings {layout.strings_bytes / 2**20:.1f} MiB, "
          f"load {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
