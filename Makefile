# Two commands: `make run` (set up everything, serve the site) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JOBS ?= 2  # pytest-xdist workers (the machines have 2 cores); JOBS=0 runs in one process
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-8)

.PHONY: run test install browser lint clean messages

# uv (docs/dependencies.md) makes the venv and installs the pinned packages: ≈ 3 s from its
# cache where pip took ≈ 25 s, in every fresh clone CI makes. It is kept once per machine
# under ~/.cache (not in the project); pip installs it there the first time.
UV_VERSION := 0.13.9
UV_DIR := $(HOME)/.cache/medins/uv-$(UV_VERSION)
UV := $(UV_DIR)/bin/uv

$(UV):
	$(PYTHON) -m venv $(UV_DIR)
	$(UV_DIR)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): requirements.txt requirements-dev.txt | $(UV)
	test -x $(PY) || $(UV) venv -q --seed --python "$$(command -v $(PYTHON))" $(VENV)
	VIRTUAL_ENV="$(abspath $(VENV))" $(UV) pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP) messages

# The project's Chinese for strings Django's admin (its pages and its scripts) and django-axes
# ship untranslated (GNU gettext's msgfmt, installed from Debian's packages when missing).
MO := locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/djangojs.mo
messages: $(MO)
locale/zh_Hans/LC_MESSAGES/%.mo: locale/zh_Hans/LC_MESSAGES/%.po
	@command -v msgfmt >/dev/null 2>&1 || bash scripts/install_gettext.sh
	msgfmt --check-format -o $@ $<

# Debian's chromium and its headless shell for the browser tests (Playwright cannot download
# browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 && [ -x /usr/lib/chromium/chromium-headless-shell ] \
		|| bash scripts/install_chromium.sh

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_policies
	$(PY) manage.py check --database default
	$(PY) manage.py load_demo
	$(PY) manage.py collectstatic --noinput -v 0
	@echo "打开 http://127.0.0.1:8000/admin/ （Ctrl+C 停止）"
	@# one Celery worker (with beat: the nightly duties) beside the web server runs the jobs
	@# (docs/jobs.md); without
	@# CELERY_BROKER_URL the queue is a folder under var/ (this machine only)
	$(VENV)/bin/celery -A config worker --beat --loglevel WARNING --concurrency 2 & \
	  trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:8000

# PYTHONDONTWRITEBYTECODE emptied for the suite: each process would otherwise compile the
# project and rewrite the test modules' asserts again (≈ 4 s of CPU per pytest worker);
# the compiled files go to __pycache__/ (ignored by git), read by the next processes
test: install browser
	$(PY) manage.py collectstatic --noinput -v 0
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n $(JOBS) $(PYTEST_ARGS)

# ruff, then the import contract (.importlinter: layers, pure kernel, no cycles)
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache var
