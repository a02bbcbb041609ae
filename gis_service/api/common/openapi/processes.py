"""The Processes part of the OpenAPI document (OGC API - Processes 1.0): the process
list, each description, execution with each process's inputs as its body's schema, jobs.
"""

from __future__ import annotations

from typing import Any

from ....processes.registry import PROCESSES
from .sharing import ERRORS, TOO_LARGE

_LINKS = {"type": "array", "items": {"type": "object"}}
STATUS_INFO: dict[str, Any] = {
    "type": "object",
    "required": ["jobID", "status", "type", "links"],
    "properties": {
        "jobID": {"type": "string"},
        "type": {"type": "string", "enum": ["process"]},
        "processID": {"type": "string"},
        "status": {
            "type": "string",
            "enum": ["accepted", "running", "successful", "failed", "dismissed"],
        },
        "message": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "started": {"type": "string", "format": "date-time", "nullable": True},
        "finished": {"type": "string", "format": "date-time", "nullable": True},
        "updated": {"type": "string", "format": "date-time"},
        "links": _LINKS,
    },
}
_GEOJSON = {"application/geo+json": {"schema": {"type": "object", "required": ["type"]}}}
_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


def _op(op_id: str, summary: str, answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": summary,
        "tags": ["Processes"],
        "responses": {**answers, **ERRORS},
        **extra,
    }


def _job_param() -> list[dict[str, Any]]:
    return [{"name": "jobId", "in": "path", "required": True, "schema": _ID}]


def _execute_body(process_id: str) -> dict[str, Any]:
    process = PROCESSES[process_id]
    inputs = {name: spec.describe()["schema"] for name, spec in process.inputs.items()}
    required = [name for name, spec in process.inputs.items() if spec.required]
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "inputs": {
                "type": "object",
                "properties": inputs,
                "required": required,
                "additionalProperties": False,
            },
            "outputs": {"type": "object"},
            "response": {"type": "string", "enum": ["raw", "document"]},
        },
    }
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _execution(process_id: str) -> dict[str, Any]:
    prefer = {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "description": "`respond-async`: answer 201 with a job at once.",
        "schema": {"type": "string"},
    }
    answers = {
        "200": {
            "description": "The result (synchronous): GeoJSON, or with `response: document`"
            " the results document {result: GeoJSON}.",
            "content": {**_GEOJSON, "application/json": {"schema": {"type": "object"}}},
        },
        "201": _json("A job (asynchronous), or the collection saved (`save_as`)."),
        "409": {**ERRORS["404"], "description": "`save_as` names a collection that exists."},
        "413": TOO_LARGE,
    }
    op = _op(
        f"execute-{process_id}",
        PROCESSES[process_id].title,
        answers,
        parameters=[prefer],
        requestBody=_execute_body(process_id),
    )
    return {"post": op}


def processes_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/processes": {
            "get": _op("processes", "The processes offered.", {"200": _json("The list.")})
        },
        "/jobs": {"get": _op("jobs", "The caller's jobs.", {"200": _json("The jobs.")})},
        "/jobs/{jobId}": {
            "get": _op(
                "job",
                "A job's status (an upload's or a process run's).",
                {"200": _json("The status.", STATUS_INFO)},
                parameters=_job_param(),
            ),
            "delete": _op(
                "dismiss",
                "Dismiss a process run (its results are deleted).",
                {"200": _json("The status.", STATUS_INFO)},
                parameters=_job_param(),
            ),
        },
        "/jobs/{jobId}/results": {
            "get": _op(
                "results",
                "A finished run's results.",
                {
                    "200": {"description": "The result.", "content": _GEOJSON},
                    "500": {**ERRORS["404"], "description": "The job failed: its error."},
                },
                parameters=_job_param(),
            )
        },
    }
    for process_id in PROCESSES:
        paths[f"/processes/{process_id}"] = {
            "get": _op(
                f"process-{process_id}",
                PROCESSES[process_id].title,
                {"200": _json("The description.")},
            )
        }
        paths[f"/processes/{process_id}/execution"] = _execution(process_id)
    return paths
