from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.domain.status import OrderStatus
from portal.notify.kinds import DELAYED, Channel, Milestone, NotificationKind
from portal.notify.rules import (
    Contact,
    CustomerPrefs,
    PlannedNotice,
    Rules,
    RulesError,
    Scope,
    idempotency_key,
    load_rules,
    plan,
)

K, C, M = NotificationKind, Channel, OrderStatus
EVERYONE = Contact(email="ada@example.com", phone="+14155552671")


@pytest.mark.parametrize(
    ("milestone", "kind", "channels"),
    [
        (M.PLACED, K.ORDER_CONFIRMATION, (C.EMAIL, C.SMS)),
        (M.PROCESSING, K.STATUS_UPDATE, (C.EMAIL,)),
        (M.PACKED, K.STATUS_UPDATE, (C.EMAIL,)),
        (M.SHIPPED, K.SHIPPING, (C.EMAIL, C.SMS)),
        (M.OUT_FOR_DELIVERY, K.STATUS_UPDATE, (C.SMS, C.EMAIL)),
        (M.AVAILABLE_FOR_PICKUP, K.STATUS_UPDATE, (C.SMS, C.EMAIL)),
        (DELAYED, K.DELAY, (C.EMAIL, C.PHONE)),
        (M.DELIVERED, K.DELIVERY, (C.EMAIL, C.SMS)),
    ],
)
def test_default_table(
    milestone: Milestone, kind: NotificationKind, channels: tuple[Channel]
) -> None:
    notices = plan(Rules.default(), milestone, CustomerPrefs(), EVERYONE)
    assert [(n.kind, n.channel) for n in notices] == [(kind, c) for c in channels]
    assert all(n.milestone is milestone for n in notices)


@pytest.mark.parametrize("milestone", [M.IN_TRANSIT, M.CANCELLED, M.RETURNED])
def test_milestones_without_a_rule_send_nothing(milestone: Milestone) -> None:
    assert plan(Rules.default(), milestone, CustomerPrefs(), EVERYONE) == []


def test_recipients_per_channel() -> None:
    notices = plan(Rules.default(), "delayed", CustomerPrefs(), EVERYONE)
    assert notices == [
        PlannedNotice(K.DELAY, C.EMAIL, "ada@example.com", DELAYED),
        PlannedNotice(K.DELAY, C.PHONE, "+14155552671", DELAYED),
    ]


def test_opted_out_channels_are_skipped() -> None:
    prefs = CustomerPrefs(opted_out=frozenset({C.SMS}))
    notices = plan(Rules.default(), M.PLACED, prefs, EVERYONE)
    assert [n.channel for n in notices] == [C.EMAIL]


def test_opt_outs_given_as_strings() -> None:
    prefs = CustomerPrefs(opted_out=frozenset({"email", "sms"}))  # type: ignore[arg-type]
    assert plan(Rules.default(), M.DELIVERED, prefs, EVERYONE) == []


@pytest.mark.parametrize("phone", [None, "", "   "])
def test_no_phone_means_no_sms_and_no_call(phone: str | None) -> None:
    contact = Contact(email="ada@example.com", phone=phone)
    assert [n.channel for n in plan(Rules.default(), M.SHIPPED, CustomerPrefs(), contact)] == [
        C.EMAIL
    ]
    assert [n.channel for n in plan(Rules.default(), DELAYED, CustomerPrefs(), contact)] == [
        C.EMAIL
    ]


def test_no_email_means_no_email() -> None:
    contact = Contact(phone="+14155552671")
    assert [n.channel for n in plan(Rules.default(), M.PLACED, CustomerPrefs(), contact)] == [C.SMS]


def test_unknown_milestone_is_an_error() -> None:
    with pytest.raises(ValueError):
        plan(Rules.default(), "teleported", CustomerPrefs(), EVERYONE)


def test_override_channels_kind_and_disable() -> None:
    rules = Rules.from_mapping(
        {
            "processing": None,
            "packed": ["email", "sms"],
            "in_transit": {"kind": "status_update", "channels": ["email"]},
            "delivered": {"channels": []},
        }
    )
    assert rules.get(M.PROCESSING) is None
    assert rules.get(M.PACKED) is not None and rules.get(M.PACKED).channels == (C.EMAIL, C.SMS)  # type: ignore[union-attr]
    transit = rules.get(M.IN_TRANSIT)
    assert transit is not None and transit.kind is K.STATUS_UPDATE
    assert rules.get(M.DELIVERED) is None
    # untouched milestones keep the defaults
    assert rules.get(M.PLACED) == Rules.default().get(M.PLACED)


def test_override_wrapped_in_rules_key() -> None:
    rules = Rules.from_mapping({"rules": {"packed": ["sms"]}})
    assert rules.get("packed").channels == (C.SMS,)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"shiped": ["email"]}, "unknown milestone 'shiped'"),
        ({"packed": ["email", "fax"]}, "rules.packed.channels[1]: unknown channel 'fax'"),
        ({"packed": {"kind": "newsletter", "channels": ["email"]}}, "unknown kind 'newsletter'"),
        ({"packed": {"kind": "delay", "channels": ["email"]}}, "'delay' cannot announce 'packed'"),
        ({"packed": {"channels": ["email"], "when": "now"}}, "unknown key(s) 'when'"),
        ({"packed": ["email", "email"]}, "'email' listed twice"),
        ({"packed": "email"}, "expected a list of channels"),
        ({"in_transit": ["email"]}, "no kind given"),
        ({"in_transit": {"kind": "status_update"}}, "no channels given"),
        (["placed"], "expected a mapping"),
    ],
)
def test_override_errors(data: object, message: str) -> None:
    with pytest.raises(RulesError) as caught:
        Rules.from_mapping(data)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_override_reports_every_problem_at_once() -> None:
    with pytest.raises(RulesError) as caught:
        Rules.from_mapping({"shiped": ["email"], "packed": ["fax"]})
    assert "shiped" in str(caught.value) and "fax" in str(caught.value)


def test_load_rules_yaml(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("packed:\n  - email\n  - sms\nprocessing: null\n", encoding="utf-8")
    rules = load_rules(path)
    assert rules.get(M.PACKED).channels == (C.EMAIL, C.SMS)  # type: ignore[union-attr]
    assert rules.get(M.PROCESSING) is None


def test_load_rules_json(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": {"delayed": {"channels": ["email"]}}}), encoding="utf-8")
    assert load_rules(path).get(DELAYED).channels == (C.EMAIL,)  # type: ignore[union-attr]


def test_load_rules_empty_file_keeps_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("", encoding="utf-8")
    assert load_rules(path) == Rules.default()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rules.toml", "", "must end in .yaml, .yml or .json"),
        ("rules.yaml", "packed: [email\n", "not valid YAML"),
        ("rules.json", "{", "not valid JSON"),
        ("rules.yaml", "packed: [pigeon]\n", "unknown channel 'pigeon'"),
    ],
)
def test_load_rules_errors_name_the_file(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert message in str(caught.value)
    if name.endswith(("yaml", "json")):
        assert str(path) in str(caught.value)


def test_load_rules_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "absent.yaml")


def test_unknown_timezone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown timezone"):
        CustomerPrefs(timezone="Mars/Olympus_Mons")


def test_idempotency_keys() -> None:
    confirmation = plan(Rules.default(), M.PLACED, CustomerPrefs(), EVERYONE)[0]
    assert idempotency_key("A1001", confirmation) == "A1001:placed:order_confirmation:email"
    shipping = plan(Rules.default(), M.SHIPPED, CustomerPrefs(), EVERYONE)[1]
    assert shipping.scope is Scope.SHIPMENT
    assert idempotency_key("A1001", shipping, "shp_2") == "A1001:shipped:shipping:sms:shp_2"
    with pytest.raises(ValueError, match="shipment"):
        idempotency_key("A1001", shipping)
