"""order search: a trigram-indexed text per order, kept current by triggers

SQLite: an FTS5 table with the trigram tokenizer (rowid = order id). PostgreSQL: a plain table
with a pg_trgm GIN index. Triggers on orders and shipments rewrite an order's text when its
number, customer email, name or phone, or a tracking number is written, so every writer (API,
webhooks, console, replays) keeps it current without knowing of it.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SQLITE_BODY = """
    o.order_number || char(31) || o.customer_email_norm || char(31) || o.customer_name
    || char(31) || coalesce(o.customer_phone, '') || char(31)
    || coalesce(replace(o.customer_phone, '+', ''), '') || char(31)
    || coalesce((SELECT group_concat(s.tracking_number, char(31)) FROM shipments s
                 WHERE s.order_id = o.id), '')
"""


def _sqlite_refresh(order_id: str) -> str:
    # Built from this file's constants only.
    delete = f"DELETE FROM order_search WHERE rowid = {order_id};"  # noqa: S608
    insert = f"INSERT INTO order_search(rowid, body) SELECT o.id, {_SQLITE_BODY} FROM orders o"  # noqa: S608
    return f"{delete} {insert} WHERE o.id = {order_id};"


_ORDER_COLUMNS = "order_number, customer_email_norm, customer_name, customer_phone"

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE order_search USING fts5(body, tokenize='trigram')",
    f"CREATE TRIGGER order_search_order_insert AFTER INSERT ON orders BEGIN "
    f"{_sqlite_refresh('new.id')} END",
    f"CREATE TRIGGER order_search_order_update AFTER UPDATE OF {_ORDER_COLUMNS} ON orders "
    f"BEGIN {_sqlite_refresh('new.id')} END",
    f"CREATE TRIGGER order_search_shipment_insert AFTER INSERT ON shipments BEGIN "
    f"{_sqlite_refresh('new.order_id')} END",
    f"CREATE TRIGGER order_search_shipment_update AFTER UPDATE OF tracking_number ON shipments "
    f"BEGIN {_sqlite_refresh('new.order_id')} END",
    f"INSERT INTO order_search(rowid, body) SELECT o.id, {_SQLITE_BODY} FROM orders o",  # noqa: S608
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS order_search_shipment_update",
    "DROP TRIGGER IF EXISTS order_search_shipment_insert",
    "DROP TRIGGER IF EXISTS order_search_order_update",
    "DROP TRIGGER IF EXISTS order_search_order_insert",
    "DROP TABLE IF EXISTS order_search",
]

_PG_BODY = """
    concat_ws(E'\\x1f', o.order_number, o.customer_email_norm, o.customer_name,
              coalesce(o.customer_phone, ''), coalesce(replace(o.customer_phone, '+', ''), ''),
              coalesce((SELECT string_agg(s.tracking_number, E'\\x1f' ORDER BY s.id)
                        FROM shipments s WHERE s.order_id = o.id), ''))
"""

_PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE order_search (order_id integer PRIMARY KEY, body text NOT NULL)",
    "CREATE INDEX ix_order_search_body_trgm ON order_search USING gin (body gin_trgm_ops)",
    f"""CREATE FUNCTION order_search_refresh(target integer) RETURNS void AS $$
        INSERT INTO order_search(order_id, body)
        SELECT o.id, {_PG_BODY} FROM orders o WHERE o.id = target
        ON CONFLICT (order_id) DO UPDATE SET body = EXCLUDED.body
    $$ LANGUAGE sql""",  # noqa: S608 - constants only
    """CREATE FUNCTION order_search_from_order() RETURNS trigger AS $$
        BEGIN PERFORM order_search_refresh(NEW.id); RETURN NULL; END
    $$ LANGUAGE plpgsql""",
    """CREATE FUNCTION order_search_from_shipment() RETURNS trigger AS $$
        BEGIN PERFORM order_search_refresh(NEW.order_id); RETURN NULL; END
    $$ LANGUAGE plpgsql""",
    f"CREATE TRIGGER order_search_order AFTER INSERT OR UPDATE OF {_ORDER_COLUMNS} ON orders "
    "FOR EACH ROW EXECUTE FUNCTION order_search_from_order()",
    "CREATE TRIGGER order_search_shipment AFTER INSERT OR UPDATE OF tracking_number "
    "ON shipments FOR EACH ROW EXECUTE FUNCTION order_search_from_shipment()",
    f"INSERT INTO order_search(order_id, body) SELECT o.id, {_PG_BODY} FROM orders o",  # noqa: S608
]
_PG_DOWN = [
    "DROP TRIGGER IF EXISTS order_search_shipment ON shipments",
    "DROP TRIGGER IF EXISTS order_search_order ON orders",
    "DROP FUNCTION IF EXISTS order_search_from_shipment()",
    "DROP FUNCTION IF EXISTS order_search_from_order()",
    "DROP FUNCTION IF EXISTS order_search_refresh(integer)",
    "DROP TABLE IF EXISTS order_search",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _run(_SQLITE_UP)
    else:
        _run(_PG_UP)


def downgrade() -> None:
    _run(_SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else _PG_DOWN)
