"""Validate an HTML form through the same Pydantic schema the API uses, keeping errors per field."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import FormData

from exohub.web.errors import DomainError
from exohub.web.templating import CSRF_FIELD

ModelT = TypeVar("ModelT", bound=BaseModel)


def form_values(form: FormData) -> dict[str, str]:
    """The form's fields as strings, without the CSRF token; blank fields are left out."""
    return {key: value for key, value in form.items() if isinstance(value, str) and key != CSRF_FIELD and value != ""}


def validate_form(model: type[ModelT], values: Mapping[str, Any]) -> tuple[ModelT | None, dict[str, str]]:
    """Return ``(instance, {})`` or ``(None, {field: message})``."""
    try:
        return model.model_validate(dict(values)), {}
    except PydanticValidationError as err:
        errors: dict[str, str] = {}
        for error in err.errors():
            field = ".".join(str(part) for part in error["loc"]) or "form"
            errors.setdefault(field, error["msg"].removeprefix("Value error, "))
        return None, errors


def form_error(err: DomainError, *, field: str) -> dict[str, str]:
    """A conflict or an invalid value becomes a message beside the form; anything else (404, 403) propagates."""
    if err.status not in (HTTPStatus.CONFLICT, HTTPStatus.UNPROCESSABLE_ENTITY):
        raise err
    return {(err.field.removeprefix("body.") if err.field else field): err.detail}
