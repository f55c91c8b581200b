"""Issue 15 hole 11: a search's full ID number does not reach the access log
(policies/request_log.py, attached to ``django.server`` by ``config.settings.LOGGING``)."""
import io
import logging

from django.core.servers.basehttp import WSGIRequestHandler

from policies.request_log import PathOnlyFilter

ID = "500231199001011234"


def access_log_line(request_line: str) -> str:
    """What runserver writes for ``request_line`` (its own handler, the configured logger)."""
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    logger = logging.getLogger("django.server")
    logger.addHandler(capture)
    try:
        handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
        handler.request, handler.requestline = None, request_line
        handler.log_request(200, 5120)
    finally:
        logger.removeHandler(capture)
    return stream.getvalue()


def test_search_terms_are_not_logged():
    line = access_log_line(f"GET /admin/enrollment/person/?q={ID}&o=2 HTTP/1.1")
    assert ID not in line and "&o=2" not in line
    assert "GET /admin/enrollment/person/?[查询参数已省略] HTTP/1.1" in line and "200" in line
    assert "GET /admin/enrollment/person/1/change/ HTTP/1.1" in access_log_line(
        "GET /admin/enrollment/person/1/change/ HTTP/1.1")


def test_gunicorn_access_records_lose_the_query_too():
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(r)s %(q)s",
                               None, None)
    record.args = {"r": f"GET /admin/claims/claim/?q={ID} HTTP/1.1", "q": f"q={ID}"}
    PathOnlyFilter().filter(record)
    assert ID not in record.getMessage()
