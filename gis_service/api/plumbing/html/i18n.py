"""The pages' two languages: which one a request gets, and every word the pages say.

The choice made with the page's switch is kept in a cookie (the server renders in it, so
the page arrives in the right language and direction); before any choice, the browser's
Accept-Language decides. Data is never translated: a collection's Arabic title is data.
"""

from __future__ import annotations

from fastapi import Request

COOKIE = "gis_lang"
LANGUAGES = ("en", "ar")
RIGHT_TO_LEFT = frozenset({"ar"})

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "switch": "العربية",
        "links": "Links",
        "footer_api": "API documentation",
        "conformance": "Conformance classes",
        "map": "Map",
        "collections": "Collections",
        "collections_about": "the published datasets",
        "openapi": "OpenAPI 3.0 document",
        "search": "Search",
        "keyword": "Keyword",
        "find": "Find",
        "no_match": "No dataset matches this search.",
        "none_yet": "No collection is published yet. Import one with",
        "collection": "Collection",
        "description": "Description",
        "geometry": "Geometry",
        "features": "Features",
        "browse": "Browse the features",
        "on_map": "Open on the map",
        "published_by": "Published by",
        "keywords": "Keywords",
        "license": "License",
        "attribution": "Attribution",
        "extent": "Extent (CRS84)",
        "time": "Time",
        "to": "to",
        "property": "property",
        "source_crs": "Source CRS",
        "source_file": "Source file",
        "updated": "Updated",
        "properties": "Properties",
        "name": "Name",
        "type": "Type",
        "format": "Format",
        "shown": "{n} features shown",
        "matching": "of {m} matching",
        "previous": "← previous",
        "next": "next →",
        "filter": "Filter (CQL2)",
        "sort_by": "Sort by",
        "per_page": "Per page",
        "show": "Show",
        "queryables": "Queryables",
        "queryables_of": "Queryables of {title}",
        "queryables_about": "Names and types a filter (CQL2) on this collection may use.",
        "feature": "Feature {id}",
        "features_of": "Features of {title}",
        "feature_of": "Feature {id} of {title}",
        "map_of_page": "map of the features on this page",
        "map_of_feature": "map of this feature",
        "sort": "sort",
        "status": "Status",
        "problem": "Problem",
        "detail": "Detail",
        "parameter": "Parameter",
        "without": "The same page without",
        "up": "Up to",
        "home": "Start page",
        "where_next": "Where to go from here",
        "layers": "Layers",
        "opacity": "Opacity",
        "zoom_to": "Zoom to layer",
        "apply": "Apply",
        "clear_filter": "Clear",
        "tools": "Filter, opacity, download",
        "download": "Download what I see",
        "download_as": "Format",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "key": "API key or token",
        "signed_in": "Signed in: keys stay in this browser tab only.",
        "no_layers": "No layer is visible to you.",
        "count": "features here",
        "loading": "Loading…",
        "open_feature": "Open the feature",
        "legend": "Legend",
        "bad_key": "This key was refused.",
    },
    "ar": {
        "switch": "English",
        "links": "الروابط",
        "footer_api": "توثيق الواجهة البرمجية",
        "conformance": "فئات المطابقة",
        "map": "الخريطة",
        "collections": "مجموعات البيانات",
        "collections_about": "البيانات المنشورة",
        "openapi": "وثيقة OpenAPI 3.0",
        "search": "بحث",
        "keyword": "كلمة مفتاحية",
        "find": "ابحث",
        "no_match": "لا توجد بيانات تطابق هذا البحث.",
        "none_yet": "لم تُنشر أي مجموعة بعد. استورد واحدة بالأمر",
        "collection": "المجموعة",
        "description": "الوصف",
        "geometry": "نوع الشكل",
        "features": "المعالم",
        "browse": "تصفح المعالم",
        "on_map": "اعرض على الخريطة",
        "published_by": "الجهة الناشرة",
        "keywords": "الكلمات المفتاحية",
        "license": "الترخيص",
        "attribution": "المصدر",
        "extent": "النطاق (CRS84)",
        "time": "الفترة الزمنية",
        "to": "إلى",
        "property": "الخاصية",
        "source_crs": "نظام الإحداثيات الأصلي",
        "source_file": "الملف الأصلي",
        "updated": "آخر تحديث",
        "properties": "الخصائص",
        "name": "الاسم",
        "type": "النوع",
        "format": "الصيغة",
        "shown": "معروض {n} من المعالم",
        "matching": "من أصل {m} مطابقة",
        "previous": "→ السابق",
        "next": "التالي ←",
        "filter": "تصفية (CQL2)",
        "sort_by": "ترتيب حسب",
        "per_page": "لكل صفحة",
        "show": "اعرض",
        "queryables": "الخصائص القابلة للاستعلام",
        "queryables_of": "الخصائص القابلة للاستعلام في {title}",
        "queryables_about": "الأسماء والأنواع التي يمكن لتصفية CQL2 على هذه المجموعة استخدامها.",
        "feature": "المعلم {id}",
        "features_of": "معالم {title}",
        "feature_of": "المعلم {id} من {title}",
        "map_of_page": "خريطة معالم هذه الصفحة",
        "map_of_feature": "خريطة هذا المعلم",
        "sort": "رتّب",
        "status": "رمز الحالة",
        "problem": "المشكلة",
        "detail": "التفاصيل",
        "parameter": "المعامل",
        "without": "الصفحة نفسها دون",
        "up": "رجوع إلى",
        "home": "الصفحة الرئيسية",
        "where_next": "إلى أين بعد ذلك",
        "layers": "الطبقات",
        "opacity": "الشفافية",
        "zoom_to": "تكبير إلى الطبقة",
        "apply": "طبّق",
        "clear_filter": "امسح",
        "tools": "التصفية والشفافية والتنزيل",
        "download": "نزّل ما أراه",
        "download_as": "الصيغة",
        "sign_in": "تسجيل الدخول",
        "sign_out": "تسجيل الخروج",
        "key": "مفتاح الواجهة أو الرمز",
        "signed_in": "تم تسجيل الدخول: يبقى المفتاح في علامة التبويب هذه فقط.",
        "no_layers": "لا توجد طبقة متاحة لك.",
        "count": "معالم هنا",
        "loading": "جارٍ التحميل…",
        "open_feature": "افتح المعلم",
        "legend": "مفتاح الخريطة",
        "bad_key": "رُفض هذا المفتاح.",
    },
}


def accepted_language(accept_language: str) -> str:
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


def page_language(request: Request) -> str:
    """The language chosen with the switch (its cookie), else the browser's."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return accepted_language(request.headers.get("accept-language", ""))
