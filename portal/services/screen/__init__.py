"""The support console's order screen: what it shows, its actions, call tasks, its doorbell.

Services only (no web imports): the pages and routes in ``portal.web.screen`` call these.
Every action records itself in the CRM log (``portal.services.interactions``) in its own
transaction and rings the order's doorbell after commit, so open order screens update.
"""
