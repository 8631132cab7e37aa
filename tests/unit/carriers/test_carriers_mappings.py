"""Every code of every mapping table, and an independent list of the ones that matter most.

The first half walks the tables themselves (each entry must come out of the mapping function
as written); the second half states expectations written down separately from the tables, so
a wrong table entry is caught rather than copied into the test.
"""

from __future__ import annotations

import pytest

from carriers import aftership, easypost, fedex, shippo, ups
from carriers.status import ReasonCode as R
from carriers.status import ShipmentStatus as S

# --- the tables, entry by entry ---------------------------------------------------------------


@pytest.mark.parametrize(("code", "status"), sorted(easypost.STATUS_MAP.items()))
def test_easypost_status_table(code: str, status: S) -> None:
    assert easypost.map_status(code, None) == (status, None)


@pytest.mark.parametrize(("detail", "rule"), sorted(easypost.DETAIL_MAP.items()))
def test_easypost_detail_table(detail: str, rule: tuple[S | None, R | None]) -> None:
    override, reason = rule
    assert easypost.map_status("in_transit", detail) == (override or S.IN_TRANSIT, reason)


@pytest.mark.parametrize(("tag", "status"), sorted(aftership.TAG_MAP.items()))
def test_aftership_tag_table(tag: str, status: S) -> None:
    assert aftership.map_tag(tag, None) == (status, None)


@pytest.mark.parametrize(("subtag", "rule"), sorted(aftership.SUBTAG_MAP.items()))
def test_aftership_subtag_table(subtag: str, rule: tuple[S, R | None]) -> None:
    tag = subtag.partition("_")[0]
    assert tag in aftership.TAG_MAP, "every subtag belongs to a known tag"
    assert aftership.map_tag(tag, subtag) == rule


@pytest.mark.parametrize(("status", "canonical"), sorted(shippo.STATUS_MAP.items()))
def test_shippo_status_table(status: str, canonical: S) -> None:
    assert shippo.map_status(status, None) == (canonical, None)


@pytest.mark.parametrize(("code", "rule"), sorted(shippo.SUBSTATUS_MAP.items()))
def test_shippo_substatus_table(code: str, rule: tuple[S | None, R | None]) -> None:
    override, reason = rule
    assert shippo.map_status("TRANSIT", code) == (override or S.IN_TRANSIT, reason)


@pytest.mark.parametrize(("kind", "status"), sorted(ups.TYPE_MAP.items()))
def test_ups_type_table(kind: str, status: S) -> None:
    assert ups.map_activity(kind, None) == (status, None)


@pytest.mark.parametrize(("code", "rule"), sorted(ups.ACTIVITY_CODE_MAP.items()))
def test_ups_activity_code_table(code: str, rule: tuple[S, R | None]) -> None:
    assert ups.map_activity("I", code) == rule


@pytest.mark.parametrize(("code", "rule"), sorted(ups.DESCRIPTION_CODE_MAP.items()))
def test_ups_description_code_table(code: str, rule: tuple[S, R | None]) -> None:
    assert ups.map_activity("I", "??", code) == rule


@pytest.mark.parametrize(("code", "rule"), sorted(fedex.STATUS_CODE_MAP.items()))
def test_fedex_status_code_table(code: str, rule: tuple[S, R | None]) -> None:
    assert fedex.map_scan(code, None) == rule
    assert fedex.map_scan(None, code) == rule, "eventType is the fallback"


@pytest.mark.parametrize(("code", "rule"), sorted(fedex.EXCEPTION_CODE_MAP.items()))
def test_fedex_exception_code_table(code: str, rule: tuple[S | None, R | None]) -> None:
    override, reason = rule
    assert fedex.map_scan("DE", "DE", code) == (override or S.ATTEMPT_FAILED, reason)


@pytest.mark.parametrize(("kind", "reason"), sorted(fedex.DELAY_TYPE_MAP.items()))
def test_fedex_delay_type_table(kind: str, reason: R) -> None:
    assert fedex.map_scan("PU", "PU", None, kind) == (S.IN_TRANSIT, reason)


# --- the documented code lists are all covered -----------------------------------------------

EASYPOST_STATUSES = [
    "unknown",
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "available_for_pickup",
    "return_to_sender",
    "failure",
    "cancelled",
    "error",
]
EASYPOST_DETAILS = [
    "address_correction",
    "arrived_at_destination",
    "arrived_at_facility",
    "arrived_at_pickup_location",
    "awaiting_information",
    "cancelled",
    "damaged",
    "delayed",
    "delivery_exception",
    "departed_facility",
    "departed_origin_facility",
    "expired",
    "failure",
    "held",
    "in_transit",
    "label_created",
    "lost",
    "missorted",
    "out_for_delivery",
    "received_at_destination_facility",
    "received_at_origin_facility",
    "refused",
    "return",
    "status_update",
    "transferred_to_destination_carrier",
    "transit_exception",
    "unknown",
    "weather_delay",
]
AFTERSHIP_TAGS = [
    "Pending",
    "InfoReceived",
    "InTransit",
    "OutForDelivery",
    "AttemptFail",
    "Delivered",
    "AvailableForPickup",
    "Exception",
    "Expired",
]
SHIPPO_STATUSES = ["PRE_TRANSIT", "TRANSIT", "DELIVERED", "RETURNED", "FAILURE", "UNKNOWN"]
SHIPPO_SUBSTATUSES = [
    "information_received",
    "address_issue",
    "contact_carrier",
    "delayed",
    "delivery_attempted",
    "delivery_rescheduled",
    "delivery_scheduled",
    "location_inaccessible",
    "notice_left",
    "out_for_delivery",
    "package_accepted",
    "package_arrived",
    "package_damaged",
    "package_departed",
    "package_disposed",
    "package_forwarded",
    "package_held",
    "package_lost",
    "package_processed",
    "package_processing",
    "package_unclaimed",
    "package_undeliverable",
    "pickup_available",
    "reschedule_delivery",
    "delivered",
    "return_to_sender",
    "other",
]
UPS_TYPES = ["D", "I", "M", "MV", "U", "X"]


@pytest.mark.parametrize(
    ("documented", "table"),
    [
        (EASYPOST_STATUSES, easypost.STATUS_MAP),
        (EASYPOST_DETAILS, easypost.DETAIL_MAP),
        (AFTERSHIP_TAGS, aftership.TAG_MAP),
        (SHIPPO_STATUSES, shippo.STATUS_MAP),
        (SHIPPO_SUBSTATUSES, shippo.SUBSTATUS_MAP),
        (UPS_TYPES, ups.TYPE_MAP),
    ],
    ids=[
        "easypost-status",
        "easypost-detail",
        "aftership-tag",
        "shippo-status",
        "shippo-sub",
        "ups",
    ],
)
def test_documented_codes_are_all_mapped(documented: list[str], table: dict[str, object]) -> None:
    assert set(documented) == set(table)


def test_aftership_subtags_of_every_published_family_are_mapped() -> None:
    published = (
        [f"Delivered_00{i}" for i in range(1, 6)]
        + ["AvailableForPickup_001", "InfoReceived_001", "Pending_001", "Expired_001"]
        + [f"Exception_0{i:02d}" for i in (*range(1, 14), *range(16, 22))]
        + [f"AttemptFail_00{i}" for i in range(1, 4)]
        + [f"InTransit_00{i}" for i in range(1, 10)]
        + [f"OutForDelivery_00{i}" for i in range(1, 5)]
    )
    assert set(published) <= set(aftership.SUBTAG_MAP)


# --- independent expectations ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        ("pre_transit", "label_created", (S.PRE_TRANSIT, None)),
        ("in_transit", "arrived_at_facility", (S.IN_TRANSIT, None)),
        ("out_for_delivery", "out_for_delivery", (S.OUT_FOR_DELIVERY, None)),
        ("delivered", "arrived_at_destination", (S.DELIVERED, None)),
        ("available_for_pickup", "arrived_at_pickup_location", (S.AVAILABLE_FOR_PICKUP, None)),
        ("return_to_sender", "return", (S.RETURNED_TO_SENDER, None)),
        ("return_to_sender", "departed_facility", (S.RETURNED_TO_SENDER, None)),
        ("in_transit", "weather_delay", (S.EXCEPTION, R.WEATHER)),
        ("in_transit", "delayed", (S.EXCEPTION, R.CARRIER)),
        ("failure", "lost", (S.EXCEPTION, R.LOST)),
        ("failure", "damaged", (S.EXCEPTION, R.DAMAGED)),
        ("failure", "refused", (S.EXCEPTION, R.REFUSED)),
        ("in_transit", "held", (S.EXCEPTION, R.HELD)),
        ("in_transit", "delivery_exception", (S.ATTEMPT_FAILED, None)),
        ("in_transit", "address_correction", (S.IN_TRANSIT, R.ADDRESS)),
        ("cancelled", "cancelled", (S.CANCELLED, None)),
        ("error", None, (S.UNKNOWN, None)),
        ("something_new", None, (S.UNKNOWN, None)),
        (None, None, (S.UNKNOWN, None)),
    ],
)
def test_easypost_expectations(
    status: str | None, detail: str | None, expected: tuple[S, R | None]
) -> None:
    assert easypost.map_status(status, detail) == expected


@pytest.mark.parametrize(
    ("tag", "subtag", "expected"),
    [
        ("Pending", "Pending_001", (S.PRE_TRANSIT, None)),
        ("InfoReceived", "InfoReceived_001", (S.PRE_TRANSIT, None)),
        ("InTransit", "InTransit_007", (S.IN_TRANSIT, None)),
        ("OutForDelivery", "OutForDelivery_001", (S.OUT_FOR_DELIVERY, None)),
        ("AttemptFail", "AttemptFail_001", (S.ATTEMPT_FAILED, None)),
        ("AttemptFail", "AttemptFail_003", (S.ATTEMPT_FAILED, R.RECIPIENT_UNAVAILABLE)),
        ("Delivered", "Delivered_002", (S.DELIVERED, None)),
        ("AvailableForPickup", "AvailableForPickup_001", (S.AVAILABLE_FOR_PICKUP, None)),
        ("Exception", "Exception_003", (S.EXCEPTION, R.REFUSED)),
        ("Exception", "Exception_004", (S.EXCEPTION, R.CUSTOMS)),
        ("Exception", "Exception_006", (S.EXCEPTION, R.PAYMENT)),
        ("Exception", "Exception_007", (S.EXCEPTION, R.ADDRESS)),
        ("Exception", "Exception_011", (S.RETURNED_TO_SENDER, None)),
        ("Exception", "Exception_012", (S.EXCEPTION, R.DAMAGED)),
        ("Exception", "Exception_013", (S.EXCEPTION, R.LOST)),
        ("Exception", "Exception_017", (S.EXCEPTION, R.WEATHER)),
        ("Exception", "Exception_020", (S.CANCELLED, None)),
        ("Expired", "Expired_001", (S.EXCEPTION, R.OTHER)),
        ("Exception", None, (S.EXCEPTION, None)),
        ("Whatever", None, (S.UNKNOWN, None)),
    ],
)
def test_aftership_expectations(
    tag: str | None, subtag: str | None, expected: tuple[S, R | None]
) -> None:
    assert aftership.map_tag(tag, subtag) == expected


@pytest.mark.parametrize(
    ("status", "substatus", "expected"),
    [
        ("PRE_TRANSIT", "information_received", (S.PRE_TRANSIT, None)),
        ("TRANSIT", "package_departed", (S.IN_TRANSIT, None)),
        ("TRANSIT", "out_for_delivery", (S.OUT_FOR_DELIVERY, None)),
        ("TRANSIT", "pickup_available", (S.AVAILABLE_FOR_PICKUP, None)),
        ("DELIVERED", "delivered", (S.DELIVERED, None)),
        ("RETURNED", "return_to_sender", (S.RETURNED_TO_SENDER, None)),
        ("RETURNED", "package_departed", (S.RETURNED_TO_SENDER, None)),
        ("FAILURE", "package_lost", (S.EXCEPTION, R.LOST)),
        ("FAILURE", "package_damaged", (S.EXCEPTION, R.DAMAGED)),
        ("TRANSIT", "address_issue", (S.EXCEPTION, R.ADDRESS)),
        ("TRANSIT", "delayed", (S.EXCEPTION, R.CARRIER)),
        ("TRANSIT", "delivery_attempted", (S.ATTEMPT_FAILED, None)),
        ("TRANSIT", "notice_left", (S.ATTEMPT_FAILED, R.RECIPIENT_UNAVAILABLE)),
        ("TRANSIT", "package_held", (S.EXCEPTION, R.HELD)),
        ("FAILURE", None, (S.EXCEPTION, None)),
        ("UNKNOWN", None, (S.UNKNOWN, None)),
        ("transit", None, (S.IN_TRANSIT, None)),
        ("TELEPORTED", "beamed", (S.UNKNOWN, None)),
    ],
)
def test_shippo_expectations(
    status: str | None, substatus: str | None, expected: tuple[S, R | None]
) -> None:
    assert shippo.map_status(status, substatus) == expected


@pytest.mark.parametrize(
    ("kind", "code", "description_code", "description", "expected"),
    [
        ("M", "MP", "003", "Shipment Ready for UPS", S.PRE_TRANSIT),
        ("MV", "", None, "Shipment voided", S.CANCELLED),
        ("I", "OR", "005", "Origin Scan", S.IN_TRANSIT),
        ("I", "YP", "071", "Preparing for Delivery", S.IN_TRANSIT),
        ("I", "OT", "021", "Out for Delivery", S.OUT_FOR_DELIVERY),
        ("D", "FS", "011", "Delivered", S.DELIVERED),
        ("D", "ZZ", None, "Out For Delivery Today", S.OUT_FOR_DELIVERY),
        ("D", "ZZ", None, "Delivered to UPS Access Point, awaiting customer pickup",
         S.AVAILABLE_FOR_PICKUP),
        ("D", "ZZ", None, "Delivered", S.DELIVERED),
        ("U", "ZZ", None, "Your delivery date was updated", S.IN_TRANSIT),
        ("X", "ZZ", "013", "A severe weather condition has delayed delivery", S.EXCEPTION),
        ("X", "ZZ", "005", "Train derailment; may be delayed", S.EXCEPTION),
        ("X", "48", "022", "The receiver was not available", S.ATTEMPT_FAILED),
        ("X", "ZZ", None, "Delivery attempt made; receiver not available", S.ATTEMPT_FAILED),
        ("X", "ZZ", None, "Returning to sender: the receiver moved", S.RETURNED_TO_SENDER),
        ("Q", None, None, None, S.UNKNOWN),
        (None, None, None, None, S.UNKNOWN),
    ],
)  # fmt: skip
def test_ups_expectations(
    kind: str | None,
    code: str | None,
    description_code: str | None,
    description: str | None,
    expected: S,
) -> None:
    assert ups.map_activity(kind, code, description_code, description)[0] is expected


@pytest.mark.parametrize(
    ("derived", "event_type", "exception_code", "delay", "expected"),
    [
        ("IN", "OC", None, None, (S.PRE_TRANSIT, None)),
        ("PU", "PU", None, None, (S.IN_TRANSIT, None)),
        ("IT", "AR", None, None, (S.IN_TRANSIT, None)),
        ("IT", "DP", None, None, (S.IN_TRANSIT, None)),
        ("OD", "OD", None, None, (S.OUT_FOR_DELIVERY, None)),
        ("DL", "DL", None, None, (S.DELIVERED, None)),
        ("HL", "HL", None, None, (S.AVAILABLE_FOR_PICKUP, None)),
        ("RS", "RS", None, None, (S.RETURNED_TO_SENDER, None)),
        ("CA", "CA", None, None, (S.CANCELLED, None)),
        ("DE", "DE", "08", None, (S.ATTEMPT_FAILED, R.RECIPIENT_UNAVAILABLE)),
        ("DE", "DE", "07", None, (S.EXCEPTION, R.REFUSED)),
        ("DE", "DE", "03", None, (S.ATTEMPT_FAILED, R.ADDRESS)),
        ("DE", "DE", None, None, (S.ATTEMPT_FAILED, None)),
        ("SE", "SE", None, None, (S.EXCEPTION, None)),
        ("DY", "SE", "A1", "WEATHER", (S.EXCEPTION, R.WEATHER)),
        ("CD", "CD", None, None, (S.EXCEPTION, R.CUSTOMS)),
        ("PU", "PU", None, "WEATHER", (S.IN_TRANSIT, R.WEATHER)),
        ("IT", "AR", "08", None, (S.IN_TRANSIT, None)),
        (None, "OD", None, None, (S.OUT_FOR_DELIVERY, None)),
        ("ZZ", "QQ", None, None, (S.UNKNOWN, None)),
    ],
)
def test_fedex_expectations(
    derived: str | None,
    event_type: str | None,
    exception_code: str | None,
    delay: str | None,
    expected: tuple[S, R | None],
) -> None:
    assert fedex.map_scan(derived, event_type, exception_code, delay) == expected
