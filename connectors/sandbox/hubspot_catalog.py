"""The sandbox portal's property catalog: HubSpot's default types and options.

Types, field types and options follow what ``GET /crm/v3/properties/{object}`` answers on
real portals (captures cited in docs/sandbox.md), not what would be convenient for our
connector: a contact's ``numemployees`` is a range enumeration, its ``industry`` and
``annualrevenue`` are free text, the company's ``industry`` is an enumeration and its
``numberofemployees`` a number, ``hubspotscore`` is a read-only, frozen calculated score.
Each entry is ``name: (type, fieldType, label, options, flags)``.
"""

from __future__ import annotations

from collections.abc import Sequence

Option = tuple[str, str]  # (value, label)
Spec = tuple[str, str, str, Sequence[Option], frozenset[str]]

RO = frozenset({"read_only"})
CALC = frozenset({"read_only", "calculated"})
CUSTOM = frozenset({"custom"})
NONE: frozenset[str] = frozenset()

LIFECYCLE_STAGES: tuple[Option, ...] = (
    ("subscriber", "Subscriber"), ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"), ("opportunity", "Opportunity"),
    ("customer", "Customer"), ("evangelist", "Evangelist"), ("other", "Other"),
)
#: The contact "Number of Employees" options (values as HubSpot stores them).
EMPLOYEE_RANGES: tuple[Option, ...] = (
    ("1-5", "1-5"), ("5-25", "5-25"), ("25-50", "25-50"), ("50-100", "50-100"),
    ("100-500", "100-500"), ("500-1000", "500-1000"), ("1000+", "1000+"),
)
LEAD_STATUS: tuple[Option, ...] = (
    ("NEW", "New"), ("OPEN", "Open"), ("IN_PROGRESS", "In Progress"), ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"), ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"), ("BAD_TIMING", "Bad Timing"),
)
ANALYTICS_SOURCES: tuple[Option, ...] = (
    ("ORGANIC_SEARCH", "Organic Search"), ("PAID_SEARCH", "Paid Search"),
    ("EMAIL_MARKETING", "Email Marketing"), ("SOCIAL_MEDIA", "Organic Social"),
    ("REFERRALS", "Referrals"), ("OTHER_CAMPAIGNS", "Other Campaigns"),
    ("DIRECT_TRAFFIC", "Direct Traffic"), ("OFFLINE", "Offline Sources"),
    ("PAID_SOCIAL", "Paid Social"),
)
#: A subset of HubSpot's ~150 company industry options (LinkedIn's list, upper snake case).
COMPANY_INDUSTRIES: tuple[Option, ...] = (
    ("ACCOUNTING", "Accounting"), ("BANKING", "Banking"),
    ("COMPUTER_SOFTWARE", "Computer Software"), ("CONSTRUCTION", "Construction"),
    ("EDUCATION_MANAGEMENT", "Education Management"), ("FINANCIAL_SERVICES", "Financial Services"),
    ("HOSPITAL_HEALTH_CARE", "Hospital & Health Care"), ("INSURANCE", "Insurance"),
    ("INFORMATION_TECHNOLOGY_AND_SERVICES", "Information Technology and Services"),
    ("INTERNET", "Internet"), ("LOGISTICS_AND_SUPPLY_CHAIN", "Logistics and Supply Chain"),
    ("MACHINERY", "Machinery"), ("MANAGEMENT_CONSULTING", "Management Consulting"),
    ("MARKETING_AND_ADVERTISING", "Marketing and Advertising"), ("RETAIL", "Retail"),
    ("TELECOMMUNICATIONS", "Telecommunications"),
)
#: The portal admin's custom rejection reason property (name and options are examples).
REJECTION_REASONS: tuple[Option, ...] = (
    ("no_budget", "No budget"), ("not_decision_maker", "Not the decision maker"),
    ("bad_timing", "Bad timing"), ("competitor", "Chose a competitor"),
    ("not_a_fit", "Not a fit"), ("unresponsive", "Unresponsive"),
)
REJECTION_PROPERTY = "sales_rejection_reason"
#: Scores from HubSpot's new scoring tool: the admin names them; these are examples.
SCORE_PROPERTIES = ("example_fit_score", "example_engagement_score", "example_combined_score")
_BOOL: tuple[Option, ...] = (("true", "Yes"), ("false", "No"))

_STAGE_DATES: dict[str, Spec] = {
    f"hs_v2_date_{kind}_{value}": ("datetime", "date", f"Date {kind} \"{label}\"", (), CALC)
    for value, label in LIFECYCLE_STAGES
    for kind in ("entered", "exited")
}

CONTACT: dict[str, Spec] = {
    "email": ("string", "text", "Email", (), NONE),
    "firstname": ("string", "text", "First Name", (), NONE),
    "lastname": ("string", "text", "Last Name", (), NONE),
    "company": ("string", "text", "Company Name", (), NONE),
    "jobtitle": ("string", "text", "Job Title", (), NONE),
    "phone": ("string", "phonenumber", "Phone Number", (), NONE),
    "industry": ("string", "text", "Industry", (), NONE),
    "numemployees": ("enumeration", "select", "Number of Employees", EMPLOYEE_RANGES, NONE),
    "annualrevenue": ("string", "text", "Annual Revenue", (), NONE),
    "country": ("string", "text", "Country/Region", (), NONE),
    "hubspotscore": ("number", "calculation_score", "HubSpot Score", (), CALC),
    "lifecyclestage": ("enumeration", "radio", "Lifecycle Stage", LIFECYCLE_STAGES, NONE),
    "hs_lead_status": ("enumeration", "radio", "Lead Status", LEAD_STATUS, NONE),
    "hubspot_owner_id": ("enumeration", "select", "Contact owner", (), frozenset({"external"})),
    "hubspot_owner_assigneddate": ("datetime", "date", "Owner Assigned Date", (), CALC),
    "associatedcompanyid": ("number", "number", "Primary Associated Company ID", (), NONE),
    "lastmodifieddate": ("datetime", "date", "Last Modified Date", (), RO),
    "createdate": ("datetime", "date", "Create Date", (), RO),
    "hs_object_id": ("number", "number", "Record ID", (), CALC),
    "hs_lifecyclestage_marketingqualifiedlead_date": (
        "datetime", "date", "Became a Marketing Qualified Lead Date", (), CALC),
    "hs_lifecyclestage_salesqualifiedlead_date": (
        "datetime", "date", "Became a Sales Qualified Lead Date", (), CALC),
    "hs_lifecyclestage_opportunity_date": (
        "datetime", "date", "Became an Opportunity Date", (), CALC),
    **_STAGE_DATES,
    "hs_last_sales_activity_timestamp": ("datetime", "date", "Last Engagement Date", (), CALC),
    "hs_sa_first_engagement_date": ("datetime", "date", "Date of first engagement", (), CALC),
    "notes_last_contacted": ("datetime", "date", "Last Contacted", (), CALC),
    "notes_last_updated": ("datetime", "date", "Last Activity Date", (), CALC),
    "recent_conversion_event_name": ("string", "text", "Recent Conversion", (), CALC),
    "num_conversion_events": ("number", "number", "Number of Form Submissions", (), CALC),
    "hs_analytics_num_page_views": ("number", "number", "Number of Pageviews", (), CALC),
    "hs_analytics_source": ("enumeration", "select", "Original Traffic Source",
                            ANALYTICS_SOURCES, CALC),
    "hs_latest_source": ("enumeration", "select", "Latest Traffic Source",
                         ANALYTICS_SOURCES, CALC),
    "salesforceleadid": ("string", "text", "Salesforce Lead ID", (), NONE),
    "salesforcecontactid": ("string", "text", "Salesforce Contact ID", (), NONE),
    **{name: ("number", "calculation_score", label, (), CALC | CUSTOM)
       for name, label in zip(SCORE_PROPERTIES,
                              ("Fit score (example)", "Engagement score (example)",
                               "Combined score (example)"), strict=True)},
    REJECTION_PROPERTY: ("enumeration", "select", "Sales rejection reason (example)",
                         REJECTION_REASONS, CUSTOM),
    "demo_requested": ("bool", "booleancheckbox", "Demo requested", _BOOL, CUSTOM),
    "trial_started": ("bool", "booleancheckbox", "Trial started", _BOOL, CUSTOM),
    "webinar_attended_date": ("date", "date", "Webinar attended", (), CUSTOM),
    "pricing_page_views": ("number", "number", "Pricing page views", (), CUSTOM),
    "timeline": ("enumeration", "select", "Purchase timeline",
                 tuple((v, v) for v in ("now", "this quarter", "0-3 months", "next year",
                                        "no timeline")), CUSTOM),
}

COMPANY: dict[str, Spec] = {
    "name": ("string", "text", "Company name", (), NONE),
    "domain": ("string", "text", "Company Domain Name", (), NONE),
    "industry": ("enumeration", "select", "Industry", COMPANY_INDUSTRIES, NONE),
    "numberofemployees": ("number", "number", "Number of Employees", (), NONE),
    "annualrevenue": ("number", "number", "Annual Revenue", (), NONE),
    "country": ("string", "text", "Country/Region", (), NONE),
    "city": ("string", "text", "City", (), NONE),
    "hubspot_owner_id": ("enumeration", "select", "Company owner", (), frozenset({"external"})),
    "createdate": ("datetime", "date", "Create Date", (), RO),
    "hs_lastmodifieddate": ("datetime", "date", "Last Modified Date", (), RO),
    "hs_object_id": ("number", "number", "Record ID", (), CALC),
}

NOTE: dict[str, Spec] = {
    "hs_note_body": ("string", "html", "Note body", (), NONE),
    "hs_timestamp": ("datetime", "date", "Activity date", (), NONE),
    "hs_object_id": ("number", "number", "Record ID", (), CALC),
    "hs_createdate": ("datetime", "date", "Created at", (), RO),
    "hs_lastmodifieddate": ("datetime", "date", "Last Modified Date", (), RO),
    "hubspot_owner_id": ("enumeration", "select", "Activity assigned to", (),
                         frozenset({"external"})),
    "sal_handoff_key": ("string", "text", "SAL handoff key", (), CUSTOM),
}

GROUPS = {"contacts": "contactinformation", "companies": "companyinformation",
          "notes": "engagement"}
