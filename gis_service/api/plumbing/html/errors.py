"""A problem as an HTML page in the site's layout, in Arabic or English (Accept-Language).

The page says what went wrong (status, title, detail, the parameter at fault) and links
back: to the same page without the faulty parameter, one level up, and to the start.
The detail comes from the code in English; an Arabic page marks it as such (lang, dir).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from .render import page_root, render

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "status": "Status",
        "title": "Problem",
        "detail": "Detail",
        "parameter": "Parameter",
        "without": "The same page without",
        "up": "Up to",
        "home": "Start page",
        "links": "Where to go from here",
    },
    "ar": {
        "status": "رمز الحالة",
        "title": "المشكلة",
        "detail": "التفاصيل",
        "parameter": "المعامل",
        "without": "الصفحة نفسها دون",
        "up": "رجوع إلى",
        "home": "الصفحة الرئيسية",
        "links": "إلى أين بعد ذلك",
    },
}
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
RIGHT_TO_LEFT = frozenset({"ar"})


def language(accept_language: str) -> str:
    """The best of the page languages the header asks for (RFC 9110 q-values); else English."""
    best, best_q = "en", 0.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        key, _, value = params.strip().partition("=")
        if key.strip() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary in STRINGS and q > best_q:
            best, best_q = primary, q
    return best


Link = tuple[str, str, str | None]  # href, label, what it names (shown left-to-right)


def _links(request: Request, root: str, parameter: object, text: dict[str, str]) -> list[Link]:
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
    lang = language(request.headers.get("accept-language", ""))
    text = STRINGS[lang]
    heading = ARABIC_TITLES.get(status, title) if lang == "ar" else title
    root = page_root(request)
    return render(
        request,
        "error.html",
        status_code=status,
        doc={"links": []},
        lang=lang,
        text_dir="rtl" if lang in RIGHT_TO_LEFT else "ltr",
        t=text,
        status=status,
        heading=heading,
        title=title,
        detail=detail,
        parameter=parameter if isinstance(parameter, str) else None,
        links=_links(request, root, parameter, text),
    )
