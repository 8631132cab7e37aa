"""Share links over the API: listed without tokens, revoked (once, logged, sockets closed)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from portal.models import Order
from portal.services.interactions import interactions_of
from portal.web.customer_guard import views_counted
from tests.integration.conftest import Portal
from tests.integration.live.conftest import MakePortal
from tests.integration.live.helpers import Watcher, token_of

LINK_FIELDS = {
    "id",
    "created_at",
    "created_by",
    "expires_at",
    "revoked_at",
    "use_count",
    "last_used_at",
}


async def _interactions(portal: Portal, number: str) -> list[str]:
    async with portal.runtime.db.read() as session:
        order = (
            await session.execute(select(Order).where(col(Order.order_number) == number))
        ).scalar_one()
        assert order.id is not None
        return [row.action for row in await interactions_of(session, order.id)]


async def test_links_are_listed_newest_first_without_tokens(portal: Portal) -> None:
    created = await portal.create_order()
    number = created["order_number"]
    placement_token = token_of(created["tracking_url"])
    made = await portal.post(f"/api/v1/orders/{number}/links", {"expires_in_days": 7})
    assert made.status_code == 201
    assert set(made.json()) == {"id", "url", "expires_at"}
    new_token = token_of(made.json()["url"])
    assert (await portal.client.get(f"/t/{new_token}")).status_code == 200
    await views_counted()  # a view is counted after its answer

    answer = await portal.get(f"/api/v1/orders/{number}/links")
    assert answer.status_code == 200
    links = answer.json()["links"]
    assert [set(link) for link in links] == [LINK_FIELDS, LINK_FIELDS]
    newest, placement = links
    assert newest["id"] == made.json()["id"]
    assert newest["created_by"] == "api:tests"
    assert newest["use_count"] == 1 and newest["last_used_at"] is not None
    assert newest["expires_at"] == made.json()["expires_at"]
    assert placement["created_by"] == "placement" and placement["revoked_at"] is None
    assert new_token not in answer.text and placement_token not in answer.text


async def test_revoke_answers_the_link_and_logs_it_once(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]
    made = (await portal.post(f"/api/v1/orders/{number}/links", {})).json()
    path = f"/api/v1/orders/{number}/links/{made['id']}/revoke"

    first = await portal.client.post(path, headers=portal.auth)
    assert first.status_code == 200, first.text
    assert first.json()["id"] == made["id"] and first.json()["revoked_at"] is not None
    again = await portal.client.post(path, headers=portal.auth)
    assert again.status_code == 200 and again.json()["revoked_at"] == first.json()["revoked_at"]

    gone = await portal.client.get(f"/t/{token_of(made['url'])}")
    assert gone.status_code == 404
    listed = (await portal.get(f"/api/v1/orders/{number}/links")).json()["links"]
    assert [link["revoked_at"] is not None for link in listed] == [True, False]
    assert await _interactions(portal, number) == ["link_revoked"]


async def test_revoke_refuses_other_orders_links_unknown_ids_and_bad_keys(portal: Portal) -> None:
    mine = (await portal.create_order())["order_number"]
    other = (await portal.create_order())["order_number"]
    theirs = (await portal.post(f"/api/v1/orders/{other}/links", {})).json()
    for path in (
        f"/api/v1/orders/{mine}/links/{theirs['id']}/revoke",
        f"/api/v1/orders/{mine}/links/999999/revoke",
        f"/api/v1/orders/{mine}/links/abc/revoke",
        f"/api/v1/orders/NOPE-1/links/{theirs['id']}/revoke",
    ):
        answer = await portal.client.post(path, headers=portal.auth)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] == "not_found"
    unauthorised = await portal.client.post(f"/api/v1/orders/{other}/links/{theirs['id']}/revoke")
    assert unauthorised.status_code == 401
    assert (await portal.client.get(f"/api/v1/orders/{other}/links")).status_code == 401
    # Nothing was revoked by any of those.
    assert (await portal.client.get(f"/t/{token_of(theirs['url'])}")).status_code == 200


async def test_links_routes_are_in_the_openapi_document(portal: Portal) -> None:
    paths = (await portal.client.get("/api/v1/openapi.json")).json()["paths"]
    assert "get" in paths["/api/v1/orders/{order_number}/links"]
    assert "post" in paths["/api/v1/orders/{order_number}/links/{link_id}/revoke"]


async def test_revoke_closes_open_sockets_on_that_link_at_once(make_portal: MakePortal) -> None:
    server, api = await make_portal()
    origin = server.runtime.settings.base_origin
    number, token = await api.create_order()
    shared = await api.link(number)
    doomed = await Watcher.open(server.ws_url(shared), origin)
    kept = await Watcher.open(server.ws_url(token), origin)
    await doomed.wait_for(1)
    await kept.wait_for(1)
    links = (await api.client.get(f"/api/v1/orders/{number}/links")).json()["links"]
    shared_id = links[0]["id"]
    answer = await api.client.post(f"/api/v1/orders/{number}/links/{shared_id}/revoke")
    assert answer.status_code == 200
    # No revocation check ran: the revoking request closed it itself.
    assert await doomed.wait_closed(3) == 1008
    assert not kept.closed.is_set()
    await kept.close()
