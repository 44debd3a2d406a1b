"""Pagination, sorting and filtering conventions, written once for every list endpoint.

Every list takes ``limit`` (1-200, default 50) and ``offset`` (>= 0), may take ``sort`` (a field name,
``-`` in front for descending, from the fields the endpoint allows) and answers with a :class:`Page`:
``items``, ``total``, ``limit``, ``offset``. Filters are plain query parameters named after the field
(``country=JP``), and ``q`` is a case-insensitive text search where an endpoint offers one.
"""

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from exohub.web.errors import InvalidInputError

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list."""

    model_config = ConfigDict(from_attributes=True)

    items: list[ItemT]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    limit: int = 50
    offset: int = 0
    sort: str | None = None


async def _page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (1-200).")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
    sort: Annotated[
        str | None,
        Query(max_length=64, description="Field to sort by; prefix with '-' for descending order."),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, offset=offset, sort=sort)


PageParamsDep = Annotated[PageParams, Depends(_page_params)]


def search_term(value: str | None) -> str | None:
    """Turn a user's ``q`` into a LIKE pattern that matches it literally, anywhere."""
    if not value:
        return None
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def paginate(
    session: Session,
    statement: Select[*tuple[Any, ...]],
    params: PageParams,
    *,
    sortable: Mapping[str, InstrumentedAttribute[Any]],
    default_sort: InstrumentedAttribute[Any],
    to_item: Callable[[Any], ItemT],
) -> Page[ItemT]:
    """Run ``statement`` for one page: sort by an allowed field (then by ``default_sort``), slice, count.

    ``statement`` selects either one ORM entity, whose objects ``to_item`` receives, or the item's fields
    as named columns, each row of which ``to_item`` receives as a dict (the cheaper choice for a read-only
    list: no ORM objects are built). The total comes with the rows (a window count, one round trip); only
    a page past the end needs a separate count.
    """
    ordered = statement.order_by(*_order_by(params.sort, sortable), default_sort)
    result = session.execute(ordered.add_columns(func.count().over()).limit(params.limit).offset(params.offset))
    rows = result.all()
    if rows:
        total = rows[0][-1]
    else:
        total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    if _selects_one_entity(statement):
        sources: list[Any] = [row[0] for row in rows]
    else:  # plain dicts: pydantic reads them several times faster than a Row's attributes
        names = tuple(result.keys())[:-1]
        sources = [dict(zip(names, row[:-1], strict=True)) for row in rows]
    return Page[ItemT](
        items=[to_item(source) for source in sources], total=total, limit=params.limit, offset=params.offset
    )


def _selects_one_entity(statement: Select[*tuple[Any, ...]]) -> bool:
    descriptions = statement.column_descriptions
    return len(descriptions) == 1 and descriptions[0]["expr"] is descriptions[0]["entity"]


def _order_by(sort: str | None, sortable: Mapping[str, InstrumentedAttribute[Any]]) -> list[Any]:
    if not sort:
        return []
    name = sort.removeprefix("-")
    if name not in sortable:
        allowed = ", ".join(sorted(sortable))
        raise InvalidInputError(f"Cannot sort by {name!r}; sort by one of: {allowed}.", field="query.sort")
    column = sortable[name]
    return [column.desc() if sort.startswith("-") else column.asc()]
