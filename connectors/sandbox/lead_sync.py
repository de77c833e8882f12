"""HubSpot's own Salesforce sync, as far as it matters here: MQLs become Leads, late.

When ``org.lead_sync_delay_seconds`` is set, a contact that becomes a
``marketingqualifiedlead`` (created as one, or moved there) gets a Salesforce Lead that
many sandbox seconds later, unless a live lead with its email exists by then; the sync
then writes the lead's id back to the contact's ``salesforceleadid``. Until then the
agent sees an MQL with no lead: "no matching lead" is often "not yet".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox.events import SYNC, Change
from connectors.sandbox.hubspot_portal import apply_changes
from connectors.sandbox.salesforce_records import write_record
from connectors.sandbox.seed_org import HUBSPOT_SYNC_USER
from connectors.sandbox.store import SandboxStore

MQL = "marketingqualifiedlead"


def install_lead_sync(store: SandboxStore) -> None:
    """Subscribe the sync to the store's change events."""

    def on_change(change: Change) -> None:
        delay = store.org.lead_sync_delay_seconds
        if delay is None or change.system != "hubspot" or change.object_type != "contact":
            return
        if not change.changed("lifecyclestage") or change.new("lifecyclestage") != MQL:
            return
        contact_id = change.object_id
        store.agenda.at(change.at + timedelta(seconds=delay),
                        lambda when: _create_lead(store, contact_id, when))

    store.events.subscribe(on_change)


def _create_lead(store: SandboxStore, contact_id: str, _when: datetime) -> None:
    contact = store.contacts.get(contact_id)
    if contact is None:
        return
    props = contact["properties"]
    email = (props.get("email") or "").lower()
    if email and any((lead.get("Email") or "").lower() == email and not lead.get("IsDeleted")
                     for lead in store.leads.values()):
        return
    status = "MQL" if any(s["ApiName"] == "MQL" for s in store.lead_statuses) else None
    values: dict[str, Any] = {
        "Email": props.get("email"), "FirstName": props.get("firstname"),
        "LastName": props.get("lastname") or "[not provided]",
        "Company": props.get("company") or "[not provided]", "Title": props.get("jobtitle"),
        "Country": props.get("country"), "Phone": props.get("phone"), "LeadSource": "Web",
    }
    if status:
        values["Status"] = status
    lead_id, _created = write_record(store, "Lead", None, values, actor=HUBSPOT_SYNC_USER,
                                     auto_assign=True, source=SYNC)
    apply_changes(store, "contacts", contact, {"salesforceleadid": lead_id}, source=SYNC)
