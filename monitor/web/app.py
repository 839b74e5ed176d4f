"""``tgwatch serve``'s ASGI application (Starlette): the report's pages over a read-only archive.

Handlers are plain functions (Starlette runs them in its thread pool, as the archive's sessions are
synchronous). Each one asks ``views`` for a page and renders it; a stored capture is answered with
a Content-Security-Policy that forbids every script and request and sandboxes the document, and is
shown only inside a sandboxed frame.
"""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor.web import views
from monitor.web.render import CAPTURE_CSP, PAGE_CSP, ServerLinks, environment
from monitor.web.views import BadRequest, ChangeQuery, NotFound, Page, Report

_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)
SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_CSP + "; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def capture_headers(content_type: str) -> dict[str, str]:
    """Headers of a stored page served to the capture frame: inert, and only framed by us."""
    return {
        "Content-Type": content_type,
        "Content-Security-Policy": f"sandbox; {CAPTURE_CSP}; frame-ancestors 'self'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def stored_content_type(headers: dict[str, Any]) -> str:
    """``text/html`` with the capture's own charset when it names a plain one (it matters for
    decoding); nothing else of a stored header reaches the response."""
    for name, value in headers.items():
        if str(name).lower() == "content-type":
            charset = _CHARSET.search(str(value))
            if charset:
                return f"text/html; charset={charset.group(1)}"
    return "text/html"


def create_app(rep: Report) -> Starlette:
    env = environment()
    links = ServerLinks()

    def page(found: Page, status: int = 200) -> HTMLResponse:
        name, values = found
        html = env.get_template(name).render(links=links, **values)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)

    def guarded(handler: Any) -> Any:
        def endpoint(request: Request) -> Response:
            try:
                result: Response = handler(request)
                return result
            except NotFound as exc:
                return page(("error.html", {"title": "Not found", "message": str(exc)}), 404)
            except BadRequest as exc:
                return page(("error.html", {"title": "Bad request", "message": str(exc)}), 400)

        return endpoint

    def number(request: Request, name: str) -> int:
        value = request.path_params[name]
        if not value.isdigit() or len(value) > 12:
            raise NotFound(f"{name} {value[:20]!r}: not a number")
        return int(value)

    def changes(request: Request) -> Response:
        return page(views.changes_page(rep, ChangeQuery.from_params(request.query_params)))

    def article(request: Request) -> Response:
        return page(views.article_page(rep, number(request, "id"), request.query_params))

    def capture(request: Request) -> Response:
        return page(views.capture_page(rep, number(request, "id")))

    def capture_raw(request: Request) -> Response:
        found = views.capture_body(rep, number(request, "id"))
        return Response(found.body, headers=capture_headers(stored_content_type(found.headers)))

    def search(request: Request) -> Response:
        return page(views.search_page(rep, request.query_params))

    def sites(request: Request) -> Response:
        return page(views.sites_page(rep))

    def front(request: Request) -> Response:
        return page(views.front_page(rep, request.query_params))

    def home(request: Request) -> Response:
        return RedirectResponse("/changes", status_code=302)

    static = StaticFiles(directory=str(files("monitor.web") / "static"))
    routes = [
        Route("/", guarded(home)),
        Route("/changes", guarded(changes)),
        Route("/article/{id}", guarded(article)),
        Route("/capture/{id}", guarded(capture)),
        Route("/capture/{id}/raw", guarded(capture_raw)),
        Route("/search", guarded(search)),
        Route("/sites", guarded(sites)),
        Route("/front", guarded(front)),
        Mount("/static", static, name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return page(("error.html", {"title": "Not found", "message": "no such page"}), 404)

    return Starlette(routes=routes, exception_handlers={404: not_found})
