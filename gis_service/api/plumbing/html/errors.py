"""A problem as an HTML page in the site's layout, in the page language (see i18n).

The page says what went wrong (status, title, detail, the parameter at fault) and links
back: to the same page without the faulty parameter, one level up, and to the start.
The detail comes from the code in English; an Arabic page marks it as such (lang, dir).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from .i18n import STRINGS, page_language
from .render import page_root, render

ARABIC_TITLES = {
    400: "طلب غير صالح",
    401: "يلزم التعريف بالهوية",
    403: "غير مسموح",
    404: "غير موجود",
    405: "الطريقة غير مسموح بها",
    406: "الصيغة المطلوبة غير متاحة",
    409: "تعارض",
    410: "لم يعد متاحًا",
    412: "تغيّر المورد منذ قراءته",
    413: "حجم الطلب أكبر من المسموح",
    428: "يلزم ترويسة If-Match",
    500: "خطأ في الخادم",
    503: "الخدمة مشغولة",
}
Link = tuple[str, str, str | None]  # href, label, what it names (shown left-to-right)


def _links(request: Request, root: str, parameter: object, lang: str) -> list[Link]:
    text = STRINGS[lang]
    path = request.url.path
    links: list[Link] = []
    params = request.query_params
    if isinstance(parameter, str) and parameter in params:
        kept = [(k, v) for k, v in params.multi_items() if k != parameter]
        if "f" not in params and parameter != "f":
            kept.append(("f", "html"))
        query = urlencode(kept)
        links.append((f"{root}{path}?{query}", text["without"], parameter))
    if path.rstrip("/"):
        up = path.rstrip("/").rsplit("/", 1)[0] or "/"
        links.append((f"{root}{up}?f=html", text["up"], up))
    links.append((f"{root}/?f=html", text["home"], None))
    return links


def error_page(
    request: Request, status: int, title: str, detail: str, parameter: object = None
) -> HTMLResponse:
    lang = page_language(request)
    heading = ARABIC_TITLES.get(status, title) if lang == "ar" else title
    root = page_root(request)
    return render(
        request,
        "error.html",
        status_code=status,
        doc={"links": []},
        status=status,
        heading=heading,
        title=title,
        detail=detail,
        parameter=parameter if isinstance(parameter, str) else None,
        links=_links(request, root, parameter, lang),
    )
