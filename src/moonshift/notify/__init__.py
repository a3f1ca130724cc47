"""Channels that carry notifications: one module per kind, each a ``Notifier``
(``moonshift.seams``); ``registry.notifier_for`` builds the one a channel needs."""
