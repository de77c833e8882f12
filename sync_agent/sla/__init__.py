"""The follow-up SLA watch: how long sales has to act on an accepted lead, and what happens
when it does not (``docs/sla.md``).

:mod:`.clock` computes a handoff's deadline (business hours, time zone, holidays),
:mod:`.state` says pending / met / breached, :mod:`.settings` is the ``[sla]`` table, and
:mod:`.watch` records breaches and queues their actions through the outbox after each run.
"""
