"""Customer notifications: the pure core (rules, templates, accuracy gate) and channel clients.

The pure modules (`kinds`, `rules`, `dates`, `wording`, `templates`, `gate`, `sms`) take values
and return values: no awaits, no database, no clock reads. The clients in `portal.notify.channels`
do the sending. The service layer (outbox, dispatcher) composes the two.
"""
