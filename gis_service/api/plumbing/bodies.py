"""Request bodies and forms into pydantic models, with errors that name the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ...errors import InvalidParameter

M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: bytes | dict[str, Any]) -> M:
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidParameter(where, first["msg"]) from None
