"""The one body reader of the API and the webhooks: size limit first, then content type."""

from __future__ import annotations

from collections.abc import Collection

from starlette.requests import Request

from ..errors import PayloadTooLarge, UnsupportedMediaType

JSON_TYPES = ("application/json",)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(
    request: Request,
    *,
    limit: int,
    media_types: Collection[str] = JSON_TYPES,
    allow_empty: bool = False,
) -> bytes:
    """The whole body, at most ``limit`` bytes, sent as one of ``media_types``.

    An announced length over the limit is refused before reading; a body that grows past it
    while streaming is refused as soon as it does. ``allow_empty``: an empty body needs no
    content type (an optional JSON body).
    """
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"the body is over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes")
    if allow_empty and not body.strip():
        return bytes(body)
    if media_type(request) not in media_types:
        raise UnsupportedMediaType("send the body as " + " or ".join(media_types))
    return bytes(body)
