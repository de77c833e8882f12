"""Seeded people and accounts: the sales org (users, managers, queues, HubSpot owners) and
the companies contacts work at.

Kept apart from the contact seeding so each stays readable; both draw from the one seeded
``Random`` of a :class:`~connectors.sandbox.seed._Seeder`, in a fixed order.
"""

from __future__ import annotations

from random import Random
from typing import Any

from connectors.sandbox.salesforce_auth import USER_ID
from connectors.sandbox.seed_data import (
    COMPANY_HEADS,
    COMPANY_TAILS,
    COUNTRIES,
    INDUSTRIES,
    SIZES,
    TLDS,
)
from connectors.sandbox.store import SandboxStore

TEAMS = (("Dana", "Whitfield", "Sales Manager EMEA"), ("Luis", "Ortega", "Sales Manager Americas"))
REPS = (("Amira", "Haddad"), ("Ben", "Carter"), ("Chen", "Wu"), ("Dora", "Kovacs"),
        ("Eli", "Brooks"), ("Femi", "Adeyemi"))
QUEUES = ("Inbound Lead Queue", "Partner Lead Queue")
SF_DOMAIN = "sandbox.example.com"
#: the Salesforce user HubSpot's own connector runs as (an example id)
HUBSPOT_SYNC_USER = "0055g00000HubSyncAAA"


def seed_sales_org(store: SandboxStore) -> dict[str, list[str]]:
    """Managers, reps (the last one inactive), the integration user, lead queues, and one
    HubSpot owner per person; returns ``{"reps", "active_reps", "inactive", "queues"}``."""
    managers = []
    for first, last, title in TEAMS:
        uid = store.new_id("user")
        store.users[uid] = _user(uid, first, last, title, manager=None, rep=False)
        managers.append(uid)
    reps = []
    for n, (first, last) in enumerate(REPS):
        uid = store.new_id("user")
        manager = managers[0] if n < len(REPS) // 2 else managers[1]
        store.users[uid] = _user(uid, first, last, "Account Executive", manager, rep=True,
                                 active=n != len(REPS) - 1)
        reps.append(uid)
    store.users.setdefault(USER_ID, _user(USER_ID, "Integration", "User", "API only", None,
                                          rep=False, email=f"integration@{SF_DOMAIN}"))
    store.users.setdefault(HUBSPOT_SYNC_USER, _user(HUBSPOT_SYNC_USER, "HubSpot", "Sync",
                                                    "API only", None, rep=False))
    queues = []
    for name in QUEUES:
        gid = store.new_id("group")
        store.groups[gid] = {"Id": gid, "Name": name, "DeveloperName": name.replace(" ", "_"),
                             "Type": "Queue"}
        queues.append(gid)
    for uid in managers + reps:
        user = store.users[uid]
        oid = store.new_id("owner")
        first, last = user["Name"].split(" ", 1)
        store.hubspot_owners[oid] = {
            "id": oid, "email": user["Email"], "firstName": first, "lastName": last,
            "userId": int(oid) + 9_000_000, "archived": not user["IsActive"],
            "salesforceUserId": uid,
        }
    active = [uid for uid in reps if store.users[uid]["IsActive"]]
    return {"reps": reps, "active_reps": active, "queues": queues,
            "inactive": [uid for uid in reps if uid not in active]}


def _user(uid: str, first: str, last: str, title: str, manager: str | None, *, rep: bool,
          active: bool = True, email: str | None = None) -> dict[str, Any]:
    return {"Id": uid, "Name": f"{first} {last}", "FirstName": first, "LastName": last,
            "Email": email or f"{first}.{last}@{SF_DOMAIN}".lower(), "IsActive": active,
            "ManagerId": manager, "Title": title, "UserType": "Standard", "IsRep": rep}


def seed_companies(store: SandboxStore, rng: Random, created: str) -> list[dict[str, Any]]:
    """HubSpot companies (some without industry, size or revenue); returns seeding info."""
    industries = list(INDUSTRIES)
    companies = []
    for head in COMPANY_HEADS:
        for tail in rng.sample(COMPANY_TAILS, 4):
            industry = industries[int(rng.random() * len(industries))]
            size = SIZES[int(rng.random() * len(SIZES))]
            domain = f"{head}{tail}".lower() + "." + TLDS[int(rng.random() * len(TLDS))]
            country = COUNTRIES[int(rng.random() * 6)][0]
            props: dict[str, str | None] = {
                "name": f"{head} {tail}",
                "domain": domain,
                "industry": industry if rng.random() < 0.85 else None,
                "numberofemployees": str(size) if rng.random() < 0.9 else None,
                "annualrevenue": str(size * int(rng.triangular(40_000, 400_000, 120_000)))
                if rng.random() < 0.6 else None,
                "country": country,
                "createdate": created,
                "hs_lastmodifieddate": created,
            }
            cid = store.add_company(props)
            companies.append({"id": cid, "name": props["name"], "domain": domain,
                              "industry": industry, "size": size,
                              "known_industry": props["industry"] is not None,
                              "known_size": props["numberofemployees"] is not None})
    return companies
