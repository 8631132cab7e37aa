"""portal.services.audit_findings: keys and reconciliation."""

from __future__ import annotations

from portal.services.audit_findings import finding_key, reconcile


def test_reconcile_sorts_findings_into_new_seen_again_and_resolved() -> None:
    still = {"order_number": "A1", "problem": "missing shipping by email notice (k1)"}
    fixed_key = finding_key("A2", "delay by sms is dead: bounced")
    new = {"order_number": "A3", "problem": "delivery by email overdue since 2027-03-01T10:00"}
    changes = reconcile({finding_key(**still): 7, fixed_key: 9}, [still, new, dict(new)])
    assert changes.seen_again == [7]
    assert changes.resolved == [9]
    assert changes.new == [{**new, "key": finding_key(**new)}]  # the repeat is one finding


def test_finding_keys_tell_orders_and_problems_apart() -> None:
    keys = {finding_key("A1", "p"), finding_key("A1", "q"), finding_key("A2", "p")}
    assert len(keys) == 3 and finding_key("A1", "p") == finding_key("A1", "p")
