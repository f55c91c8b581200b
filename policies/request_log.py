"""The access log without query strings (issue 15 hole 11; docs/access.md §3).

A changelist search (``?q=500231199001011234``), an autocomplete term or a filter carries
what the user typed — a full ID number, a phone, a name — in the URL, and the server's
access log writes the request line as it came. ``PathOnlyFilter`` rewrites the request
line of every record of the logger it is attached to (``django.server``: runserver's
access log, set up in ``config.settings.LOGGING``) to the method, path and protocol,
with the query string replaced by ``?[查询参数已省略]``; the path itself holds only row
ids. It also knows gunicorn's access-log records (``r``: request line, ``q``: query).
"""
from __future__ import annotations

import logging
import re

OMITTED = "?[查询参数已省略]"
_QUERY = re.compile(r"\?\S*")


def path_only(request_line: str) -> str:
    """``GET /admin/x/?q=1 HTTP/1.1`` → ``GET /admin/x/?[查询参数已省略] HTTP/1.1``."""
    return _QUERY.sub(OMITTED, request_line)


class PathOnlyFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args and isinstance(args[0], str):
            record.args = (path_only(args[0]), *args[1:])
        elif isinstance(args, dict) and isinstance(args.get("r"), str):  # gunicorn.access
            record.args = {**args, "r": path_only(args["r"]), "q": ""}
        if isinstance(record.msg, str) and not args:
            record.msg = path_only(record.msg)
        return True
