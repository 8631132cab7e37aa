"""Live push: broker (in-process or Redis pub/sub), per-process hub, websocket plumbing.

Knows nothing of orders: channels are names, messages are opaque bytes.
"""
