"""The emulated org's sObject schemas and their ``describe`` answers.

One :class:`FieldSpec` per field says what a describe shows (type, label, length,
nillable, createable/updateable, picklist, external id) and what writes are checked
against. Picklist values come from the store where the org keeps them (``LeadStatus``,
``TaskStatus``) so describe, SOQL and validation always agree. Field-level security
(``store.org.hidden_fields`` / ``readonly_fields``) is applied here too: a hidden field
is absent from describe and from SOQL, a read-only one is shown not updateable.

Field shapes follow Salesforce's DescribeSObjectResult/Field reference (also typed in
jsforce's ``describe-result.d.ts``); the Lead ``Industry`` and ``LeadSource`` values are
the org defaults seen in Developer Edition orgs (second-hand, see docs/sandbox.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Key prefixes by sObject (Lead 00Q, Task 00T, User 005, Group 00G ...).
PREFIXES = {
    "Lead": "00Q", "Task": "00T", "User": "005", "Group": "00G", "Account": "001",
    "Contact": "003", "Opportunity": "006", "LeadHistory": "017", "LeadStatus": "01J",
    "TaskStatus": "01J",
}
TASK_PRIORITIES = ("High", "Normal", "Low")
LEAD_INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare",
    "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit",
    "Other", "Recreation", "Retail", "Shipping", "Technology", "Telecommunications",
    "Transportation", "Utilities",
)
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other",
                "Email", "Social", "Trade Show")
RATINGS = ("Hot", "Warm", "Cold")
_SOAP = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
         "double": "xsd:double", "date": "xsd:date", "datetime": "xsd:dateTime"}


@dataclass(frozen=True)
class FieldSpec:
    """One field of an sObject as the org defines it."""

    name: str
    type: str  # id string email phone textarea picklist reference boolean int double date datetime
    label: str = ""
    length: int = 0
    nillable: bool = True
    writable: bool = True  # createable and updateable for the integration user
    custom: bool = False
    external_id: bool = False
    restricted: bool = False  # restricted picklist
    picklist: str | Sequence[str] | None = None  # values, or the name of a store-held list
    reference_to: tuple[str, ...] = ()
    defaulted: bool = False

    @property
    def read_only(self) -> bool:
        return not self.writable


def _f(name: str, kind: str, label: str = "", **kw: Any) -> FieldSpec:
    lengths = {"string": 255, "email": 80, "phone": 40, "textarea": 32_000, "picklist": 255,
               "id": 18, "reference": 18}
    kw.setdefault("length", lengths.get(kind, 0))
    return FieldSpec(name, kind, label or _label(name), **kw)


def _label(name: str) -> str:
    base = name.removesuffix("__c").removesuffix("Id").replace("_", " ")
    return "".join(f" {c}" if c.isupper() and i else c for i, c in enumerate(base)).strip() \
        .replace("  ", " ") or name


def _ro(name: str, kind: str, label: str = "", **kw: Any) -> FieldSpec:
    return _f(name, kind, label, writable=False, **kw)


_SYSTEM = (
    _ro("IsDeleted", "boolean", "Deleted", nillable=False, defaulted=True),
    _ro("CreatedDate", "datetime", "Created Date", nillable=False, defaulted=True),
    _ro("CreatedById", "reference", "Created By ID", nillable=False, defaulted=True,
        reference_to=("User",)),
    _ro("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, defaulted=True),
    _ro("LastModifiedById", "reference", "Last Modified By ID", nillable=False, defaulted=True,
        reference_to=("User",)),
    _ro("SystemModstamp", "datetime", "System Modstamp", nillable=False, defaulted=True),
)

LEAD: tuple[FieldSpec, ...] = (
    _ro("Id", "id", "Lead ID", nillable=False, defaulted=True),
    _f("FirstName", "string", "First Name", length=40),
    _f("LastName", "string", "Last Name", length=80, nillable=False),
    _ro("Name", "string", "Full Name", length=121, nillable=False),
    _f("Email", "email"),
    _f("Company", "string", nillable=False),
    _f("Title", "string", length=128),
    _f("Phone", "phone"),
    _f("Industry", "picklist", picklist=LEAD_INDUSTRIES),
    _f("NumberOfEmployees", "int", "Employees"),
    _f("Country", "string", length=80),
    _f("LeadSource", "picklist", "Lead Source", picklist=LEAD_SOURCES),
    _f("Status", "picklist", nillable=False, restricted=True, picklist="LeadStatus",
       defaulted=True),
    _f("Rating", "picklist", picklist=RATINGS),
    _f("OwnerId", "reference", "Owner ID", nillable=False, defaulted=True,
       reference_to=("Group", "User")),
    _ro("IsConverted", "boolean", "Converted", nillable=False, defaulted=True),
    _ro("ConvertedDate", "date", "Converted Date"),
    _ro("ConvertedAccountId", "reference", "Converted Account ID", reference_to=("Account",)),
    _ro("ConvertedContactId", "reference", "Converted Contact ID", reference_to=("Contact",)),
    _ro("ConvertedOpportunityId", "reference", "Converted Opportunity ID",
        reference_to=("Opportunity",)),
    _ro("LastActivityDate", "date", "Last Activity"),
    *_SYSTEM,
    _f("SAL_Score__c", "double", "SAL Score", custom=True),
    _f("SAL_Date__c", "datetime", "SAL Date", custom=True),
    _f("SAL_Reason__c", "string", "SAL Reason", custom=True),
    _f("Rejection_Reason__c", "picklist", "Rejection Reason", custom=True, restricted=True,
       picklist="RejectionReason"),
    # An org that set up sync-agent to create missing Leads (docs/salesforce.md): the
    # handoff key in a unique External ID text field, as on Task.
    _f("SAL_Handoff_Key__c", "string", "SAL Handoff Key", custom=True, external_id=True),
    # Our custom field (not a Salesforce one): the follow-up SLA status sync-agent's SLA
    # watch marks ("breached"); an org adds it as a Text field (docs/sla.md).
    _f("SAL_SLA_Status__c", "string", "SAL SLA Status", custom=True, length=40),
)
TASK: tuple[FieldSpec, ...] = (
    _ro("Id", "id", "Activity ID", nillable=False, defaulted=True),
    _f("WhoId", "reference", "Name ID", reference_to=("Contact", "Lead")),
    _f("OwnerId", "reference", "Assigned To ID", nillable=False, defaulted=True,
       reference_to=("Group", "User")),
    _f("Subject", "string"),
    _f("Description", "textarea", "Description"),
    _f("Status", "picklist", nillable=False, restricted=True, picklist="TaskStatus",
       defaulted=True),
    _f("Priority", "picklist", nillable=False, restricted=True, picklist=TASK_PRIORITIES,
       defaulted=True),
    _f("ActivityDate", "date", "Due Date Only"),
    _ro("IsClosed", "boolean", "Closed", nillable=False, defaulted=True),
    _ro("CompletedDateTime", "datetime", "Completed Date/Time"),
    _ro("IsArchived", "boolean", "Archived", nillable=False, defaulted=True),
    *_SYSTEM,
    _f("SAL_Handoff_Key__c", "string", "SAL Handoff Key", custom=True, external_id=True),
)
USER: tuple[FieldSpec, ...] = (
    _ro("Id", "id", "User ID", nillable=False), _ro("Name", "string", "Full Name"),
    _ro("Email", "email"), _ro("IsActive", "boolean", "Active", nillable=False),
    _ro("ManagerId", "reference", "Manager ID", reference_to=("User",)),
    _ro("Title", "string"), _ro("UserType", "picklist", "User Type"),
)
GROUP: tuple[FieldSpec, ...] = (
    _ro("Id", "id", "Group ID", nillable=False), _ro("Name", "string"),
    _ro("DeveloperName", "string", "Developer Name"), _ro("Type", "picklist"),
)
LEAD_STATUS: tuple[FieldSpec, ...] = (
    _ro("Id", "id", "Lead Status Value ID"), _ro("ApiName", "string", "Api Name"),
    _ro("MasterLabel", "string", "Master Label"), _ro("IsConverted", "boolean", "Is Converted"),
    _ro("IsDefault", "boolean", "Is Default"), _ro("SortOrder", "int", "Sort Order"),
)
TASK_STATUS: tuple[FieldSpec, ...] = (
    _ro("Id", "id", "Task Status Value ID"), _ro("ApiName", "string", "Api Name"),
    _ro("MasterLabel", "string", "Master Label"), _ro("IsClosed", "boolean", "Is Closed"),
    _ro("IsDefault", "boolean", "Is Default"), _ro("SortOrder", "int", "Sort Order"),
)
LEAD_HISTORY: tuple[FieldSpec, ...] = (
    _ro("Id", "id", "Lead History ID"), _ro("LeadId", "reference", "Lead ID",
                                            reference_to=("Lead",)),
    _ro("Field", "picklist", "Changed Field"), _ro("OldValue", "string", "Old Value"),
    _ro("NewValue", "string", "New Value"), _ro("DataType", "picklist", "Data Type"),
    *(f for f in _SYSTEM if f.name in ("IsDeleted", "CreatedDate", "CreatedById")),
)

SCHEMAS: dict[str, tuple[FieldSpec, ...]] = {
    "Lead": LEAD, "Task": TASK, "User": USER, "Group": GROUP, "LeadStatus": LEAD_STATUS,
    "TaskStatus": TASK_STATUS, "LeadHistory": LEAD_HISTORY,
}
WRITABLE_OBJECTS = ("Lead", "Task")


@dataclass
class FieldSecurity:
    """Field-level security for the integration user: hidden or read-only fields."""

    hidden: dict[str, set[str]] = field(default_factory=dict)
    read_only: dict[str, set[str]] = field(default_factory=dict)

    def visible(self, sobject: str, name: str) -> bool:
        return name not in self.hidden.get(sobject, set())

    def editable(self, sobject: str, name: str) -> bool:
        return name not in self.read_only.get(sobject, set())


def fields_of(sobject: str, security: FieldSecurity | None = None) -> dict[str, FieldSpec]:
    """The fields the integration user can see, by name (FLS applied)."""
    specs = SCHEMAS.get(sobject, ())
    if security is None:
        return {f.name: f for f in specs}
    return {f.name: f for f in specs if security.visible(sobject, f.name)}


def picklist_values(spec: FieldSpec, store: Any) -> list[dict[str, Any]]:
    """Picklist entries as describe shows them: active, defaultValue, label, validFor, value."""
    if spec.picklist is None:
        return []
    if isinstance(spec.picklist, str):
        rows: Iterable[Mapping[str, Any]] = store.picklists.get(spec.picklist, ())
        return [{"active": True, "defaultValue": bool(r.get("IsDefault")),
                 "label": r.get("MasterLabel") or r["ApiName"], "validFor": None,
                 "value": r["ApiName"]} for r in rows]
    default = "Normal" if spec.name == "Priority" else None
    return [{"active": True, "defaultValue": v == default, "label": v, "validFor": None,
             "value": v} for v in spec.picklist]


def allowed_values(spec: FieldSpec, store: Any) -> set[str]:
    """Active picklist values (what a restricted picklist accepts)."""
    return {p["value"] for p in picklist_values(spec, store) if p["active"]}


def describe(sobject: str, store: Any, version: str) -> dict[str, Any] | None:
    """``GET /sobjects/{sobject}/describe``: None for an unknown sObject."""
    if sobject not in SCHEMAS:
        return None
    security = store.org.security
    fields = [_describe_field(spec, sobject, store, security)
              for spec in fields_of(sobject, security).values()]
    writable = sobject in WRITABLE_OBJECTS
    base = f"/services/data/v{version}/sobjects/{sobject}"
    return {
        "name": sobject, "label": sobject, "labelPlural": sobject + "s", "custom": False,
        "keyPrefix": PREFIXES.get(sobject), "queryable": True, "createable": writable,
        "updateable": writable, "deletable": writable, "retrieveable": True,
        "searchable": writable, "triggerable": writable, "fields": fields,
        "recordTypeInfos": [], "childRelationships": [],
        "urls": {"describe": f"{base}/describe", "sobject": base, "rowTemplate": f"{base}/{{ID}}"},
    }


def _describe_field(spec: FieldSpec, sobject: str, store: Any,
                    security: FieldSecurity) -> dict[str, Any]:
    writable = spec.writable and security.editable(sobject, spec.name)
    picks = picklist_values(spec, store)
    return {
        "name": spec.name, "label": spec.label, "type": spec.type, "length": spec.length,
        "byteLength": spec.length * 3, "nillable": spec.nillable, "createable": writable,
        "updateable": writable, "custom": spec.custom, "externalId": spec.external_id,
        "idLookup": spec.name == "Id" or spec.external_id or spec.type == "email",
        "unique": False, "calculated": spec.name in ("Name", "IsClosed"),
        "defaultedOnCreate": spec.defaulted, "filterable": True, "sortable": True,
        "groupable": spec.type not in ("double", "textarea", "datetime"),
        "restrictedPicklist": spec.restricted, "picklistValues": picks,
        "dependentPicklist": False, "referenceTo": list(spec.reference_to),
        "relationshipName": spec.name[:-2] if spec.type == "reference" else None,
        "soapType": _SOAP.get(spec.type, "xsd:string"), "precision": 18 if spec.type == "double"
        else 0, "scale": 2 if spec.type == "double" else 0,
        "digits": 9 if spec.type == "int" else 0, "defaultValue": None,
    }
