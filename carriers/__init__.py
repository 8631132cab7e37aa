"""Carrier webhook adapters: verify a request, parse it into canonical tracking updates.

Pure: bytes and headers in, typed updates out. Knows nothing of the portal.
"""
