"""`/processes`, `/processes/{id}` and `POST /processes/{id}/execution` (OGC API -
Processes 1.0: Core, OGC Process Description, JSON, job list, dismiss).

Synchronous by default; `Prefer: respond-async` answers 201 with a job. The inputs are
checked against the process description before anything runs (400 naming the input,
404 for a collection the caller may not read, as everywhere).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...errors import InvalidParameter, Unauthorized
from ...processes.registry import PROCESSES, get_process
from ...processes.schema import parse_inputs
from ...store.base import Store
from ..audit.record import note
from ..plumbing.deps import PrincipalDep, SettingsDep, StoreDep
from ..plumbing.encoding import dumps
from ..plumbing.limits import read_body
from ..plumbing.links import JSON, base_url, link
from ..plumbing.negotiation import BASE_PARAMS, reject_unknown
from ..publishing.uploads import require_editor
from .jobs import GEOJSON, status_document
from .running import Run, Slots, check, run_now, start
from .saving import refuse_taken

router = APIRouter(tags=["Processes"])
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
]
PROCESSES_REL = "http://www.opengis.net/def/rel/ogc/1.0/processes"
JOB_LIST_REL = "http://www.opengis.net/def/rel/ogc/1.0/job-list"
EXECUTE_REL = "http://www.opengis.net/def/rel/ogc/1.0/execute"


def _links(base: str, process_id: str) -> list[dict[str, Any]]:
    return [
        link(f"{base}/processes/{process_id}", "self", JSON),
        link(f"{base}/processes/{process_id}/execution", EXECUTE_REL, JSON, "execute"),
    ]


@router.get("/processes", summary="The processes offered")
async def list_processes(request: Request, settings: SettingsDep) -> Response:
    reject_unknown(request, BASE_PARAMS)
    base = base_url(request, settings)
    body = {
        "processes": [{**p.summary(), "links": _links(base, p.id)} for p in PROCESSES.values()],
        "links": [link(f"{base}/processes", "self", JSON)],
    }
    return Response(dumps(body), media_type=JSON)


@router.get("/processes/{processId}", summary="A process: its inputs and outputs")
async def describe_process(request: Request, processId: str, settings: SettingsDep) -> Response:
    reject_unknown(request, BASE_PARAMS)
    process = get_process(processId)
    body = {
        **process.description_document(),
        "links": _links(base_url(request, settings), processId),
    }
    return Response(dumps(body), media_type=JSON)


def _slots(request: Request, size: int) -> Slots:
    slots = getattr(request.app.state, "process_slots", None)
    if slots is None:  # made once, on the loop: no other coroutine runs meanwhile
        slots = request.app.state.process_slots = Slots(size)
    return slots


def _prepared(store: Store, run: Run) -> None:
    check(store, run.process, run.values, run.principal)
    if run.values.get("save_as"):
        refuse_taken(store, run.values["save_as"])


@router.post("/processes/{processId}/execution", summary="Run a process (sync, or async)")
async def execute(
    request: Request,
    processId: str,
    principal: PrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
) -> Response:
    reject_unknown(request, frozenset())
    process = get_process(processId)
    raw = await read_body(request, settings.process_max_inline_bytes)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameter("body", f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidParameter("body", "must be an object with 'inputs'")
    if "inputs" not in body:
        raise InvalidParameter("inputs", "is required")
    if body.get("response", "raw") not in ("raw", "document"):
        raise InvalidParameter("response", "must be raw or document")
    if not isinstance(body.get("outputs", {}), dict):
        raise InvalidParameter("outputs", "must be an object")
    values = parse_inputs(process.inputs, body["inputs"])
    run = Run(process, values, principal, settings)
    asynchronous = "respond-async" in request.headers.get("prefer", "").lower()
    if values.get("save_as"):
        require_editor(principal)
    elif asynchronous and principal.entity is None:
        raise Unauthorized("a job is its creator's: running one needs an API key")
    await store.call(_prepared, store, run)
    read = [s.info.id for s in run.sources if s.info is not None]
    note(request, values.get("save_as") or (read[0] if read else ""), f"process:{process.id}", 0)
    base = base_url(request, settings)
    slots = _slots(request, settings.process_workers)
    if asynchronous:
        job = await store.call(start, store, run, slots)
        view = await store.call(store.catalog.job_view, job.id)
        assert view is not None
        return Response(
            dumps(status_document(base, view)),
            status_code=201,
            media_type=JSON,
            headers={"Location": f"{base}/jobs/{job.id}", "Preference-Applied": "respond-async"},
        )
    result, saved = await run_in_threadpool(run_now, store, run, slots)
    if saved is not None:
        location = f"{base}/collections/{saved.collection}"
        doc = {
            **saved.document(),
            "features": saved.features,
            "links": [link(location, "collection", JSON)],
        }
        return Response(
            dumps(doc), status_code=201, media_type=JSON, headers={"Location": location}
        )
    if body.get("response") == "document":  # the outputs by id (OGC's results document)
        return Response(b'{"result":' + result.geojson() + b"}", media_type=JSON)
    return Response(result.geojson(), media_type=GEOJSON)
