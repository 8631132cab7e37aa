"""Live push: broker (in-process or Redis pub/sub), per-process hub, websocket plumbing.

Knows nothing of orders: channels are names, messages are opaque bytes, frames are rendered
by a :class:`realtime.hub.Source` the application provides.

- :mod:`realtime.broker`: the ``Broker`` protocol, ``BrokerUnavailable``, ``create_broker``.
- :mod:`realtime.memory` / :mod:`realtime.redis_broker`: the two brokers.
- :mod:`realtime.hub`: ``Hub`` (fan-out, seq tracking, bounded per-viewer queues),
  ``Frame``, ``Source``, ``Viewer``, ``create_hub``; its parts are in :mod:`realtime.hub_parts`
  (records), :mod:`realtime.hub_snapshots` (shared snapshot reads), :mod:`realtime.hub_delivery`
  (sending to viewers).
- :mod:`realtime.websocket`: ``pump`` (serve an accepted starlette WebSocket) and
  ``origin_allowed``; its docstring lists the uvicorn settings the server must use.

Importing any of these has no side effects; nothing connects before ``Broker.start()``.
"""
