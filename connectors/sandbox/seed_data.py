"""Vocabulary for the synthetic sandbox data (names, companies, titles, weights)."""

from __future__ import annotations

# fmt: off
FIRST = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Priya", "Wei", "Mohammed", "Fatima", "Lukas", "Sofia", "Mateo",
    "Yuki", "Olga", "Kwame", "Aisha", "Pierre", "Chloe", "Lars", "Ingrid", "Raj", "Mei", "Diego",
    "Ana", "Tom", "Emma",
]
LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Patel", "Chen", "Kim", "Nguyen", "Muller", "Schmidt", "Rossi",
    "Dubois", "Silva", "Tanaka", "Kowalski", "Novak", "Larsen", "Okafor", "Haddad", "Singh",
    "Cohen", "Ivanova",
]
COMPANY_HEADS = [
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent",
    "Tyrell", "Cyberdyne", "Wonka", "Nimbus", "Vertex", "Northwind", "Contoso", "Fabrikam",
    "Brightline", "Bluepeak", "Quantum", "Ironclad", "Evergreen", "Polaris", "Summit", "Cobalt",
    "Helix", "Lumen", "Orbital", "Redwood", "Sterling",
]
COMPANY_TAILS = [
    "Corp", "Labs", "Systems", "Analytics", "Group", "Technologies", "Logistics", "Health",
    "Bank", "Foods",
]
TLDS = (
    "com", "com", "com", "io", "co.uk", "de", "fr", "com.au",
)
FREE_MAIL = (
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "gmx.de",
)
STUDENT_MAIL = (
    "stanford.edu", "mit.edu", "ox.ac.uk", "tum.de", "berkeley.edu",
)
COMPETITORS = (
    "rivalsoft.com", "leadgatehq.com", "funnelforge.io",
)
#: Company industry (HubSpot enumeration value) -> what people type into the contact's
#: free-text industry field, and the Salesforce Lead Industry picklist value.
INDUSTRIES = {
    "COMPUTER_SOFTWARE": (("Software", "software", "SaaS", "Computer Software", "B2B SaaS"),
                          "Technology"),
    "INFORMATION_TECHNOLOGY_AND_SERVICES": (("IT", "IT services", "Information Technology",
                                             "tech"), "Technology"),
    "FINANCIAL_SERVICES": (("Fintech", "Finance", "financial services", "Banking/Finance"),
                           "Finance"),
    "HOSPITAL_HEALTH_CARE": (("Healthcare", "Health care", "Hospital"), "Healthcare"),
    "RETAIL": (("Retail", "E-commerce", "ecommerce"), "Retail"),
    "MACHINERY": (("Manufacturing", "Industrial", "mfg"), "Manufacturing"),
    "EDUCATION_MANAGEMENT": (("Education", "EdTech"), "Education"),
    "MARKETING_AND_ADVERTISING": (("Marketing", "Advertising", "Agency"), "Media"),
    "TELECOMMUNICATIONS": (("Telecom", "Telecommunications"), "Telecommunications"),
    "LOGISTICS_AND_SUPPLY_CHAIN": (("Logistics", "Supply chain", "Shipping"), "Transportation"),
}
#: Exact company headcounts (the company's numberofemployees).
SIZES = (
    3, 8, 18, 40, 85, 150, 320, 750, 1500, 5000, 12000,
)
#: The contact "Number of Employees" ranges, as HubSpot's option values.
RANGES = ("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+")
#: What people type into the contact's free-text annual revenue field.
TYPED_REVENUE = ("$5M", "10M", "1-10M", "50 million", "$250k", "100000000", "< 1M", "n/a")
COUNTRIES = (
    ("United States", 34), ("United Kingdom", 12), ("Germany", 10), ("France", 7), ("Canada", 7),
    ("Australia", 5), ("India", 8), ("Brazil", 5), ("Netherlands", 4), ("Spain", 4),
    ("Nigeria", 2), ("Japan", 2),
)
TITLES = (
    ("CEO", 3), ("CTO", 3), ("VP of Marketing", 5), ("VP Sales", 5), ("Director of IT", 6),
    ("Head of Operations", 5), ("Marketing Manager", 12), ("Sales Operations Manager", 6),
    ("Software Engineer", 12), ("Data Analyst", 8), ("Procurement Manager", 4),
    ("Consultant", 6), ("Marketing Intern", 3), ("Office Assistant", 3),
)
HS_LEAD_STATUS = (
    ("NEW", 30), ("OPEN", 20), ("IN_PROGRESS", 15), ("ATTEMPTED_TO_CONTACT", 15),
    ("CONNECTED", 10), ("UNQUALIFIED", 5), ("BAD_TIMING", 5),
)
STAGES = (
    ("subscriber", 30), ("lead", 45), ("salesqualifiedlead", 8), ("opportunity", 6),
    ("customer", 8), ("other", 3),
)
SOURCES = (
    "ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA", "REFERRALS",
    "DIRECT_TRAFFIC", "OFFLINE", "PAID_SOCIAL",
)
LEAD_SOURCE = {
    "ORGANIC_SEARCH": "Web", "PAID_SEARCH": "Web", "EMAIL_MARKETING": "Email",
    "SOCIAL_MEDIA": "Social", "REFERRALS": "Partner Referral", "DIRECT_TRAFFIC": "Web",
    "OFFLINE": "Trade Show", "PAID_SOCIAL": "Social",
}
CONVERSIONS = (
    "Demo request form", "Pricing page contact form", "Free trial sign-up",
    "Webinar registration: Scaling RevOps", "Ebook download: State of B2B Marketing",
    "Newsletter sign-up", "Contact us",
)
# fmt: on
