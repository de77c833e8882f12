"""Connectors: sources that read MQLs and sinks that write SAL decisions back.

Every connector has the same shape (``settings.py`` with endpoints, field mappings and
limits in one place; ``errors.py`` translating the vendor's exceptions; ``source.py``;
``sink.py``). ``connectors.base`` holds the two small interfaces they implement and
``connectors.sandbox`` a local emulator of both vendors' HTTP APIs.
"""
