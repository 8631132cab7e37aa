"""``parse`` of every adapter on realistic fixture payloads, and its error messages."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import pytest

from carriers.base import ParsedWebhook, PayloadError
from carriers.registry import ADAPTERS
from carriers.status import ReasonCode as R
from carriers.status import ShipmentStatus as S
from tests.unit.carriers.carriers_fixtures import fixture_names, payload, payload_json

GENERIC_HEADERS = {"webhook-id": "msg_2Lh9KjrfWAy8uAXMN1N1eRm8rAb"}


def parse(provider: str, body: bytes, headers: dict[str, str] | None = None) -> ParsedWebhook:
    if headers is None:
        headers = GENERIC_HEADERS if provider == "generic" else {}
    return ADAPTERS[provider].parse(body, headers)


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def sha(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class Newest(NamedTuple):
    """What the newest update of a fixture must say."""

    status: S
    reason: R | None
    occurred_at: str
    message: str
    carrier_status: str
    location: str
    eta: date | None


class Expect(NamedTuple):
    tracking_number: str
    carrier: str
    statuses: tuple[S, ...]
    newest: Newest
    dedupe_key: str | None  # None: computed, checked for stability only


USPS = "9400111899223456789012"
DHL = "JD014600003828"
SHIPPO = "9205590164917312751089"
UPS = "1Z204W4R0308071865"
FEDEX = "794644790138"
PT, IT, OFD, DL = S.PRE_TRANSIT, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED

EXPECTED: dict[tuple[str, str], Expect] = {
    ("easypost", "in_transit"): Expect(
        USPS, "usps", (PT, IT, IT),
        Newest(IT, None, "2027-03-01T17:55:00+00:00", "Arrived at USPS Regional Facility",
               "in_transit/arrived_at_facility", "OAKLAND, CA 94621, US", date(2027, 3, 4)),
        "evt_2f4c1a9e8b7d4e2aa1c3b5d7e9f01234",
    ),
    ("easypost", "out_for_delivery"): Expect(
        USPS, "usps", (PT, IT, IT, OFD),
        Newest(OFD, None, "2027-03-03T13:05:00+00:00", "Out for Delivery",
               "out_for_delivery/out_for_delivery", "CHARLOTTE, NC 28209, US", date(2027, 3, 3)),
        "evt_7a1b2c3d4e5f40718293a4b5c6d7e8f9",
    ),
    ("easypost", "delivered"): Expect(
        USPS, "usps", (PT, IT, IT, OFD, DL),
        Newest(DL, None, "2027-03-03T17:48:00+00:00", "Delivered, In/At Mailbox",
               "delivered/arrived_at_destination", "CHARLOTTE, NC 28209, US", None),
        "evt_9c8b7a6f5e4d43c2b1a0f9e8d7c6b5a4",
    ),
    ("easypost", "weather_delay"): Expect(
        "1Z999AA10123456784", "ups", (PT, S.EXCEPTION),
        Newest(S.EXCEPTION, R.WEATHER, "2027-03-02T06:30:00+00:00",
               "Delayed due to weather conditions", "in_transit/weather_delay",
               "DENVER, CO 80249, US", date(2027, 3, 6)),
        "evt_0d1e2f3a4b5c46d7e8f9a0b1c2d3e4f5",
    ),
    ("easypost", "delivery_exception"): Expect(
        USPS, "usps", (PT, IT, OFD, S.ATTEMPT_FAILED),
        Newest(S.ATTEMPT_FAILED, R.RECIPIENT_UNAVAILABLE, "2027-03-03T15:20:00+00:00",
               "Notice Left (No Authorized Recipient Available)", "in_transit/delivery_exception",
               "CHARLOTTE, NC 28209, US", date(2027, 3, 4)),
        "evt_5e6f7a8b9c0d41e2f3a4b5c6d7e8f9a0",
    ),
    ("easypost", "tracker_created"): Expect(
        "EZ1000000001", "dhlexpress", (S.UNKNOWN,),
        Newest(S.UNKNOWN, None, "2027-02-28T21:11:00+00:00", "Tracking update", "unknown", "",
               None),
        "evt_1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
    ),
    ("aftership", "in_transit"): Expect(
        DHL, "dhl", (PT, IT, IT, IT),
        Newest(IT, None, "2027-03-02T08:15:00+00:00", "Departed hub", "InTransit/InTransit_007",
               "Leipzig, SN 04109, DEU", date(2027, 3, 3)),
        "6f0d8f3e-1c2b-4a5d-9e8f-0a1b2c3d4e5f",
    ),
    ("aftership", "out_for_delivery"): Expect(
        DHL, "dhl", (PT, IT, IT, IT, OFD),
        Newest(OFD, None, "2027-03-03T06:41:00+00:00",
               "The shipment has been loaded onto the delivery vehicle",
               "OutForDelivery/OutForDelivery_001", "München, BY 80331, DEU", date(2027, 3, 3)),
        "0b9a8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d",
    ),
    ("aftership", "delivered"): Expect(
        DHL, "dhl", (PT, IT, IT, IT, OFD, DL),
        Newest(DL, None, "2027-03-03T10:02:00+00:00",
               "The shipment has been delivered to the recipient", "Delivered/Delivered_003",
               "München, BY 80331, DEU", None),
        "9d8c7b6a-5f4e-4d3c-ab2a-190817263544",
    ),
    ("aftership", "exception_customs"): Expect(
        "EA123456785US", "royal-mail", (IT, S.EXCEPTION),
        Newest(S.EXCEPTION, R.CUSTOMS, "2027-03-02T14:30:00+00:00",
               "Item held by customs, import duties review", "Exception/Exception_004",
               "Heathrow, TW6 2GA, GBR", date(2027, 3, 7)),
        "3c2b1a09-f8e7-4d6c-b5a4-938271605f4e",
    ),
    ("aftership", "attempt_fail"): Expect(
        USPS, "usps", (IT, S.ATTEMPT_FAILED),
        Newest(S.ATTEMPT_FAILED, R.RECIPIENT_UNAVAILABLE, "2027-03-03T19:12:00+00:00",
               "Notice Left (No Authorized Recipient Available)", "AttemptFail/AttemptFail_002",
               "CHARLOTTE, NC 28209, USA", date(2027, 3, 4)),
        "aa11bb22-cc33-4d44-8e55-ff6677889900",
    ),
    ("aftership", "edd_revise"): Expect(
        DHL, "dhl", (IT,),
        Newest(IT, R.WEATHER, "2027-03-02T12:00:00+00:00",
               "Estimated delivery date revised (extreme weather)", "InTransit/InTransit_007", "",
               date(2027, 3, 5)),
        "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716",
    ),
    ("aftership", "pending"): Expect(
        "JD014600003829", "dhl", (PT,),
        Newest(PT, None, "2027-02-28T17:00:00+00:00", "Pending", "Pending/Pending_001", "", None),
        "11111111-2222-4333-8444-555555555555",
    ),
    ("shippo", "transit"): Expect(
        SHIPPO, "usps", (PT, IT, IT),
        Newest(IT, None, "2027-03-02T07:12:00+00:00", "Departed USPS Regional Facility",
               "TRANSIT/package_departed", "Phoenix, AZ 85043, US", date(2027, 3, 4)),
        sha(SHIPPO, "2027-03-02T07:12:00Z", "TRANSIT", "package_departed"),
    ),
    ("shippo", "out_for_delivery"): Expect(
        SHIPPO, "usps", (PT, IT, IT, OFD),
        Newest(OFD, None, "2027-03-04T12:40:00+00:00",
               "Out for Delivery, Expected Delivery by 8:00pm", "TRANSIT/out_for_delivery",
               "Spotsylvania, VA 22551, US", date(2027, 3, 4)),
        sha(SHIPPO, "2027-03-04T12:40:00Z", "TRANSIT", "out_for_delivery"),
    ),
    ("shippo", "delivered"): Expect(
        SHIPPO, "usps", (PT, IT, IT, OFD, DL),
        Newest(DL, None, "2027-03-04T18:31:00+00:00", "Delivered, In/At Mailbox",
               "DELIVERED/delivered", "Spotsylvania, VA 22551, US", None),
        sha(SHIPPO, "2027-03-04T18:31:00Z", "DELIVERED", "delivered"),
    ),
    ("shippo", "failure_lost"): Expect(
        SHIPPO, "usps", (PT, IT, IT, S.EXCEPTION),
        Newest(S.EXCEPTION, R.LOST, "2027-03-06T16:00:00+00:00",
               "The package could not be located in the carrier network.",
               "FAILURE/package_lost", "US", None),
        sha(SHIPPO, "2027-03-06T16:00:00Z", "FAILURE", "package_lost"),
    ),
    ("shippo", "delivery_attempted"): Expect(
        SHIPPO, "usps", (PT, IT, IT, OFD, S.ATTEMPT_FAILED),
        Newest(S.ATTEMPT_FAILED, R.RECIPIENT_UNAVAILABLE, "2027-03-04T16:02:00+00:00",
               "Delivery attempted. Recipient not available.", "TRANSIT/delivery_attempted",
               "Spotsylvania, VA 22551, US", date(2027, 3, 5)),
        sha(SHIPPO, "2027-03-04T16:02:00Z", "TRANSIT", "delivery_attempted"),
    ),
    ("ups", "manifest"): Expect(
        UPS, "ups", (PT,),
        Newest(PT, None, "2027-03-01T14:12:30+00:00", "Shipment Ready for UPS", "M/MP/003", "US",
               None),
        sha(UPS, "20270301", "141230", "MP"),
    ),
    ("ups", "on_the_way"): Expect(
        UPS, "ups", (IT,),
        Newest(IT, None, "2027-03-02T02:29:01+00:00", "On the Way", "I/DP/005", "Hickory, NC, US",
               date(2027, 3, 3)),
        sha(UPS, "20270302", "022901", "DP"),
    ),
    ("ups", "out_for_delivery"): Expect(
        UPS, "ups", (OFD,),
        Newest(OFD, None, "2027-03-03T14:15:19+00:00", "Out for Delivery", "I/OT/021",
               "Charlotte, NC, US", date(2027, 3, 3)),
        sha(UPS, "20270303", "141519", "OT"),
    ),
    ("ups", "delivered"): Expect(
        UPS, "ups", (DL,),
        Newest(DL, None, "2027-03-03T14:50:04+00:00", "Delivered", "D/FS/011",
               "CHARLOTTE, NC 28209, US", None),
        sha(UPS, "20270303", "145004", "FS"),
    ),
    ("ups", "exception_weather"): Expect(
        UPS, "ups", (S.EXCEPTION,),
        Newest(S.EXCEPTION, R.WEATHER, "2027-03-02T11:30:00+00:00",
               "A severe weather condition has delayed delivery.", "X/WR/013",
               "Louisville, KY, US", date(2027, 3, 5)),
        sha(UPS, "20270302", "113000", "WR"),
    ),
    ("ups", "attempt"): Expect(
        UPS, "ups", (S.ATTEMPT_FAILED,),
        Newest(S.ATTEMPT_FAILED, R.RECIPIENT_UNAVAILABLE, "2027-03-03T20:10:00+00:00",
               "The receiver was not available for delivery. We'll make a second attempt the "
               "next business day.", "X/48/022", "Charlotte, NC 28209, US", date(2027, 3, 4)),
        sha(UPS, "20270303", "201000", "48"),
    ),
    ("fedex", "in_transit"): Expect(
        FEDEX, "fedex", (PT, IT, IT, IT),
        Newest(IT, None, "2027-03-02T09:17:00+00:00", "Departed FedEx location", "IT/DP",
               "NEW STANTON, PA 15672, US", date(2027, 3, 3)),
        None,
    ),
    ("fedex", "out_for_delivery"): Expect(
        FEDEX, "fedex", (PT, IT, IT, IT, OFD),
        Newest(OFD, None, "2027-03-03T12:55:00+00:00", "On FedEx vehicle for delivery", "OD/OD",
               "CHARLOTTE, NC 28208, US", date(2027, 3, 3)),
        None,
    ),
    ("fedex", "delivered"): Expect(
        FEDEX, "fedex", (PT, IT, IT, IT, OFD, DL),
        Newest(DL, None, "2027-03-03T16:47:00+00:00", "Delivered", "DL/DL",
               "CHARLOTTE, NC 28209, US", None),
        None,
    ),
    ("fedex", "weather_delay"): Expect(
        FEDEX, "fedex", (PT, IT, IT, IT, S.EXCEPTION),
        Newest(S.EXCEPTION, R.WEATHER, "2027-03-02T14:30:00+00:00",
               "Shipment exception: Severe weather conditions have delayed delivery", "DY/SE/A1",
               "NEW STANTON, PA 15672, US", date(2027, 3, 5)),
        None,
    ),
    ("fedex", "delivery_exception"): Expect(
        FEDEX, "fedex", (PT, IT, IT, IT, OFD, S.ATTEMPT_FAILED),
        Newest(S.ATTEMPT_FAILED, R.RECIPIENT_UNAVAILABLE, "2027-03-03T19:20:00+00:00",
               "Delivery exception: Customer not available or business closed", "DE/DE/08",
               "CHARLOTTE, NC 28209, US", date(2027, 3, 4)),
        None,
    ),
    ("generic", "single"): Expect(
        DHL, "dhl", (IT,),
        Newest(IT, None, "2027-03-02T08:15:00+00:00", "Departed hub", "in_transit",
               "Leipzig, SN, DE", date(2027, 3, 3)),
        GENERIC_HEADERS["webhook-id"],
    ),
    ("generic", "batch"): Expect(
        DHL, "dhl", (PT, IT, S.EXCEPTION),
        Newest(S.EXCEPTION, R.WEATHER, "2027-03-02T14:40:00+00:00", "Delayed by snow at the hub",
               "exception", "Leipzig, SN 04109, DE", date(2027, 3, 5)),
        GENERIC_HEADERS["webhook-id"],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("provider", "name"), sorted(EXPECTED))
def test_fixture_parses_to_expected_updates(provider: str, name: str) -> None:
    expect = EXPECTED[(provider, name)]
    parsed = parse(provider, payload(provider, name))

    assert tuple(update.status for update in parsed.updates) == expect.statuses
    for update in parsed.updates:
        assert update.tracking_number == expect.tracking_number
        assert update.carrier == expect.carrier
        assert update.occurred_at.tzinfo is UTC
        assert update.message
    times = [update.occurred_at for update in parsed.updates]
    assert times == sorted(times), "updates must be oldest first"
    # Only the newest update carries the webhook-level estimate.
    assert all(update.estimated_delivery is None for update in parsed.updates[:-1]) or (
        provider == "generic"
    )

    newest = parsed.updates[-1]
    assert newest.status is expect.newest.status
    assert newest.reason_code is expect.newest.reason
    assert newest.occurred_at == datetime.fromisoformat(expect.newest.occurred_at)
    assert newest.message == expect.newest.message
    assert newest.carrier_status == expect.newest.carrier_status
    assert (newest.location.label() if newest.location else "") == expect.newest.location
    assert newest.estimated_delivery == expect.newest.eta
    if expect.dedupe_key is not None:
        assert parsed.dedupe_key == expect.dedupe_key


def test_every_fixture_has_an_expectation() -> None:
    covered = {provider for provider, _ in EXPECTED}
    for provider in covered:
        quiet = {"batch_updated"} if provider == "easypost" else set()
        assert set(fixture_names(provider)) - quiet == {n for p, n in EXPECTED if p == provider}


@pytest.mark.parametrize(("provider", "name"), sorted(EXPECTED))
def test_dedupe_key_is_stable_across_reparses(provider: str, name: str) -> None:
    body = payload(provider, name)
    assert parse(provider, body) == parse(provider, body)


@pytest.mark.parametrize("provider", sorted({p for p, _ in EXPECTED if p != "generic"}))
def test_dedupe_keys_differ_between_events(provider: str) -> None:
    keys = [parse(provider, payload(provider, name)).dedupe_key for name in fixture_names(provider)]
    assert len(set(keys)) == len(keys)


def test_exceptions_and_failed_attempts_always_carry_a_reason() -> None:
    for provider, name in EXPECTED:
        for update in parse(provider, payload(provider, name)).updates:
            if update.status in (S.EXCEPTION, S.ATTEMPT_FAILED):
                assert update.reason_code is not None, (provider, name, update)


# --- EasyPost ---------------------------------------------------------------------------------


def test_easypost_non_tracker_events_carry_no_updates() -> None:
    parsed = parse("easypost", payload("easypost", "batch_updated"))
    assert parsed == ParsedWebhook("evt_b1a2c3d4e5f6478899aabbccddeeff00", ())


def test_easypost_public_url_is_kept() -> None:
    parsed = parse("easypost", payload("easypost", "in_transit"))
    assert all(
        u.public_url and u.public_url.startswith("https://track.easypost.com/")
        for u in parsed.updates
    )


def test_easypost_unknown_codes_become_unknown_and_keep_the_raw_code() -> None:
    event: Any = payload_json("easypost", "in_transit")
    event["result"]["tracking_details"][-1]["status"] = "teleported"
    event["result"]["tracking_details"][-1]["status_detail"] = "beamed_up"
    newest = parse("easypost", encode(event)).updates[-1]
    assert newest.status is S.UNKNOWN
    assert newest.carrier_status == "teleported/beamed_up"


def _detail(index: int) -> Any:
    return lambda e: e["result"]["tracking_details"][index]


EASYPOST_ERRORS = [
    (lambda e: e.pop("id"), "id: is required"),
    (lambda e: e.update(result=[]), "result: expected an object, got array"),
    (
        lambda e: e["result"].update(tracking_details={}),
        "result.tracking_details: expected an array",
    ),
    (lambda e: _detail(0)(e).pop("datetime"), "result.tracking_details[0].datetime: is required"),
    (lambda e: _detail(1)(e).update(datetime="yesterday"), "result.tracking_details[1].datetime"),
    (lambda e: e["result"].update(est_delivery_date="soon"), "result.est_delivery_date"),
    (lambda e: e["result"].pop("tracking_code"), "result.tracking_code: is required"),
]


@pytest.mark.parametrize(("mutate", "message"), EASYPOST_ERRORS)
def test_easypost_payload_errors_name_the_field(mutate: Any, message: str) -> None:
    event: Any = payload_json("easypost", "in_transit")
    mutate(event)
    with pytest.raises(PayloadError) as error:
        parse("easypost", encode(event))
    assert message in error.value.message


# --- AfterShip --------------------------------------------------------------------------------


def test_aftership_pending_time_alert_carries_no_updates() -> None:
    event: Any = payload_json("aftership", "pending")
    event["event"] = "tracking_pending_time"
    assert parse("aftership", encode(event)).updates == ()


def test_aftership_unknown_event_is_a_payload_error() -> None:
    event: Any = payload_json("aftership", "in_transit")
    event["event"] = "tracking_teleported"
    with pytest.raises(PayloadError, match="unknown AfterShip event"):
        parse("aftership", encode(event))


@pytest.mark.parametrize(
    ("tag", "subtag", "status"),
    [
        ("InTransit", "InTransit_099", S.IN_TRANSIT),  # a future subtag falls back to its tag
        (None, "Exception_099", S.EXCEPTION),  # no tag: the subtag's prefix is the tag
        ("Teleported", "Teleported_001", S.UNKNOWN),
    ],
)
def test_aftership_unknown_subtags_fall_back(tag: str | None, subtag: str, status: S) -> None:
    event: Any = payload_json("aftership", "in_transit")
    point = event["msg"]["checkpoints"][-1]
    point["tag"], point["subtag"] = tag, subtag
    newest = parse("aftership", encode(event)).updates[-1]
    assert newest.status is status
    assert subtag in newest.carrier_status


def test_aftership_edd_revise_without_ts_is_a_payload_error() -> None:
    event: Any = payload_json("aftership", "edd_revise")
    del event["ts"]
    with pytest.raises(PayloadError, match="ts: is required"):
        parse("aftership", encode(event))


def test_aftership_date_only_checkpoint_is_midnight_utc() -> None:
    event: Any = payload_json("aftership", "in_transit")
    event["msg"]["checkpoints"][0]["checkpoint_time"] = "2027-02-27"
    oldest = parse("aftership", encode(event)).updates[0]
    assert oldest.occurred_at == datetime(2027, 2, 27, tzinfo=UTC)


# --- Shippo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["transaction_created", "batch_purchased"])
def test_shippo_other_events_carry_no_updates(event: str) -> None:
    body = encode({"event": event, "test": False, "data": {"object_id": "x"}})
    parsed = parse("shippo", body)
    assert parsed == ParsedWebhook(hashlib.sha256(body).hexdigest(), ())


def test_shippo_unknown_event_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="unknown Shippo event"):
        parse("shippo", encode({"event": "track_teleported", "data": {}}))


def test_shippo_entries_without_any_date_are_skipped() -> None:
    event: Any = payload_json("shippo", "transit")
    first = event["data"]["tracking_history"][0]
    first["status_date"] = first["object_updated"] = first["object_created"] = None
    assert len(parse("shippo", encode(event)).updates) == 2


# --- UPS --------------------------------------------------------------------------------------


def test_ups_local_time_with_offset_is_used_when_gmt_is_missing() -> None:
    event: Any = payload_json("ups", "out_for_delivery")
    event["gmtActivityDate"] = event["gmtActivityTime"] = ""
    event["gmtOffset"] = "-05:00"
    update = parse("ups", encode(event)).updates[0]
    assert update.occurred_at == datetime(2027, 3, 3, 14, 15, 19, tzinfo=UTC)


def test_ups_without_any_usable_time_is_a_payload_error() -> None:
    event: Any = payload_json("ups", "out_for_delivery")
    event["gmtActivityDate"] = ""
    with pytest.raises(PayloadError, match="gmtActivityDate"):
        parse("ups", encode(event))


def test_ups_five_digit_times_are_zero_padded() -> None:
    event: Any = payload_json("ups", "out_for_delivery")
    event["gmtActivityTime"] = "74700"
    update = parse("ups", encode(event)).updates[0]
    assert update.occurred_at == datetime(2027, 3, 3, 7, 47, tzinfo=UTC)


# --- FedEx ------------------------------------------------------------------------------------


def _fedex_result() -> Any:
    return payload_json("fedex", "delivered")


def _complete(result: Any) -> Any:
    return {"completeTrackResults": [{"trackingNumber": FEDEX, "trackResults": [result]}]}


@pytest.mark.parametrize(
    "wrap",
    [
        lambda r: r,
        lambda r: {"trackResults": [r]},
        _complete,
        lambda r: {"output": _complete(r)},
    ],
)
def test_fedex_envelopes_all_parse_alike(wrap: Any) -> None:
    assert parse("fedex", encode(wrap(_fedex_result()))) == parse(
        "fedex", payload("fedex", "delivered")
    )


def test_fedex_payloads_sharing_a_milestone_are_distinct_when_the_estimate_changes() -> None:
    first: Any = payload_json("fedex", "in_transit")
    revised = copy.deepcopy(first)
    window = revised["output"]["completeTrackResults"][0]["trackResults"][0]
    window["estimatedDeliveryTimeWindow"]["window"]["ends"] = "2027-03-04T13:00:00-05:00"
    parsed_first, parsed_revised = parse("fedex", encode(first)), parse("fedex", encode(revised))
    assert parsed_first.dedupe_key != parsed_revised.dedupe_key
    assert parsed_revised.updates[-1].estimated_delivery == date(2027, 3, 4)
    assert [u.occurred_at for u in parsed_first.updates] == [
        u.occurred_at for u in parsed_revised.updates
    ]


def test_fedex_a_later_payload_may_carry_an_older_event() -> None:
    # The newest payload is not necessarily the newest event: every scan is emitted, sorted.
    late: Any = payload_json("fedex", "in_transit")
    scans = late["output"]["completeTrackResults"][0]["trackResults"][0]["scanEvents"]
    late_scan = dict(
        scans[0],
        date="2027-03-01T12:00:00-05:00",
        eventType="AR",
        eventDescription="Arrived late scan",
    )
    scans.append(late_scan)
    parsed = parse("fedex", encode(late))
    assert len(parsed.updates) == 5
    assert parsed.updates[2].message == "Arrived late scan"


def test_fedex_several_tracking_numbers_in_one_payload() -> None:
    other: Any = _fedex_result()
    other["trackingNumberInfo"]["trackingNumber"] = "794644790139"
    body = encode({"trackResults": [_fedex_result(), other]})
    numbers = {u.tracking_number for u in parse("fedex", body).updates}
    assert numbers == {FEDEX, "794644790139"}


def test_fedex_error_results_carry_no_updates() -> None:
    failed = {
        "trackingNumberInfo": {"trackingNumber": "1"},
        "error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND", "message": "not found"},
    }
    body = encode({"output": _complete(failed)})
    assert parse("fedex", body).updates == ()


def test_fedex_body_without_track_results_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="expected FedEx track results"):
        parse("fedex", encode({"hello": "world"}))


# --- generic ----------------------------------------------------------------------------------


def _generic(**changes: Any) -> bytes:
    event: Any = payload_json("generic", "single")
    for key, value in changes.items():
        if value is ...:
            del event[key]
        else:
            event[key] = value
    return encode(event)


def _batch(*events: bytes) -> bytes:
    return encode({"events": [json.loads(event) for event in events]})


GENERIC_ERRORS = [
    (b"[1, 2]", "body: expected an object, got array"),
    (b"{not json", "body is not JSON"),
    (b"\xff\xfe{}", "body is not UTF-8"),
    (_generic(tracking_number=...), "body.tracking_number: is required"),
    (_generic(tracking_number=""), "body.tracking_number: must not be empty"),
    (_generic(tracking_number=12), "body.tracking_number: expected a string, got number"),
    (_generic(carrier="DHL Express"), "body.carrier: 'dhl express' is not a carrier code"),
    (_generic(status="shipped"), "body.status: 'shipped' is not one of pre_transit, in_transit"),
    (_generic(status=None), "body.status: is required"),
    (
        _generic(occurred_at="2027-03-02T08:15:00"),
        "body.occurred_at: '2027-03-02T08:15:00' is not an RFC 3339 timestamp with a zone",
    ),
    (
        _generic(occurred_at="2027-02-30T08:15:00Z"),
        "body.occurred_at: '2027-02-30T08:15:00Z' is not a valid date and time",
    ),
    (_generic(occurred_at=1804000000), "body.occurred_at: expected an RFC 3339 string, got number"),
    (_generic(reason_code="snow"), "body.reason_code: 'snow' is not one of weather, customs"),
    (
        _generic(estimated_delivery="03/03/2027"),
        "body.estimated_delivery: expected a YYYY-MM-DD date string",
    ),
    (
        _generic(estimated_delivery="2027-02-30"),
        "body.estimated_delivery: '2027-02-30' is not a valid date",
    ),
    (_generic(location=["Leipzig"]), "body.location: expected an object or null, got array"),
    (
        _generic(location={"city": "Leipzig", "street": "x"}),
        "body.location: unknown field 'street'",
    ),
    (_generic(location={"city": 7}), "body.location.city: expected a string, got number"),
    (_generic(message=["hi"]), "body.message: expected a string, got array"),
    (_generic(public_url="ftp://example.com/x"), "body.public_url: must be an http(s) URL"),
    (_generic(colour="blue"), "body: unknown field 'colour'"),
    (encode({"events": {}}), "events: expected an array, got object"),
    (encode({"events": []}), "events: must contain at least one event"),
    (encode({"events": [1]}), "events[0]: expected an object, got number"),
    (encode({"events": [], "meta": 1}), "body: unknown field 'meta' beside 'events'"),
    (_batch(_generic(), _generic(status="lost")), "events[1].status: 'lost' is not one of"),
    (_batch(*[_generic()] * 1001), "events: at most 1000 events"),
]


@pytest.mark.parametrize(("body", "message"), GENERIC_ERRORS)
def test_generic_validation_is_precise(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError) as error:
        parse("generic", body)
    assert message in error.value.message


def test_generic_cuts_a_long_message_and_location_instead_of_refusing_them() -> None:
    body = _generic(message="x" * 5000, location={"city": "c" * 500, "country": "DE"})
    update = parse("generic", body).updates[0]
    assert len(update.message) == 1000 and update.message.endswith("\u2026")
    assert update.location is not None and update.location.label().endswith(", DE")
    assert len(update.location.label()) <= 200


def test_generic_requires_the_webhook_id_header() -> None:
    with pytest.raises(PayloadError, match="webhook-id header: is required"):
        parse("generic", payload("generic", "single"), {})


def test_generic_accepts_offsets_lowercase_and_optional_fields() -> None:
    body = encode({"tracking_number": "X1", "carrier": "GLS", "status": "delivered",
                   "occurred_at": "2027-03-02t09:15:00.5+01:00",
                   "public_url": "https://gls-group.com/track/X1"})  # fmt: skip
    update = parse("generic", body).updates[0]
    assert update.occurred_at == datetime(2027, 3, 2, 8, 15, 0, 500000, tzinfo=UTC)
    assert update.carrier == "gls"
    assert update.message == ""
    assert update.location is None
    assert update.public_url == "https://gls-group.com/track/X1"
