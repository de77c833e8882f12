"""The pure checker behind ``rules check --against``: a loaded ruleset against a schema.

No system here: the schema is written by hand in the shapes the connectors' schema
discovery gives (tests/e2e/test_rules_against.py drives the real connectors against the
sandbox). Every problem carries the file and line of the condition, or the configuration
option at fault, and a did-you-mean where one helps."""

# ruff: noqa: E501 - rule snippets read best one per line

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.base import SourceSchema
from sync_agent.errors import Problem
from sync_agent.rules import load_ruleset
from sync_agent.rules import operators as operators_mod
from sync_agent.rules.against import AgainstReport, check_against
from sync_agent.rules.fitting import supplies
from sync_agent.rules.operators import OpInfo
from sync_agent.rules.reading import PropertyType

RANGES = (("1-5", "1-5"), ("5-25", "5-25"), ("25-50", "25-50"), ("1000+", "1000+"))
STAGES = (("lead", "Lead"), ("salesqualifiedlead", "Sales Qualified Lead"),
          ("customer", "Customer"), ("evangelist", "Evangelist"))  # fmt: skip
INDUSTRIES = (("COMPUTER_SOFTWARE", "Computer Software"), ("INTERNET", "Internet"),
              ("BANKING", "Banking"))  # fmt: skip
CRM = {
    "email": PropertyType("email", "string", "text", title="Email"),
    "jobtitle": PropertyType("jobtitle", "string", "text", title="Job Title"),
    "industry": PropertyType("industry", "string", "text", title="Industry"),
    "annualrevenue": PropertyType("annualrevenue", "string", "text", title="Annual Revenue"),
    "numemployees": PropertyType("numemployees", "enumeration", "select", RANGES,
                                 title="Number of Employees"),
    "lifecyclestage": PropertyType("lifecyclestage", "enumeration", "radio", STAGES,
                                   title="Lifecycle Stage"),
    "interests": PropertyType("interests", "enumeration", "checkbox",
                              (("pricing", "Pricing page"), ("webinar", "Webinar")),
                              title="Interests"),
    "createdate": PropertyType("createdate", "datetime", "date", title="Create Date"),
    "legacy_score": PropertyType("legacy_score", "number", "calculation_score",
                                 title="Legacy score", read_only=True,
                                 retired="it stopped updating", instead=("fit_score", "combined_score")),
    "fit_score": PropertyType("fit_score", "number", "calculation_score", title="Fit score"),
    "combined_score": PropertyType("combined_score", "number", "calculation_score",
                                   title="Combined score"),
}  # fmt: skip
COMPANY = {
    "industry": PropertyType("industry", "enumeration", "select", INDUSTRIES, title="Industry"),
    "numberofemployees": PropertyType("numberofemployees", "number", "number",
                                      title="Number of Employees"),
}  # fmt: skip
PREFIXES = ("crm", "company")

HEAD = """[ruleset]
name = "probe"

[threshold]
accept_at = 70

[[criteria]]
name = "score"
weight = 100
checks = [ { field = "lead_score", op = "gte", value = 70 } ]
"""


def schema(**overrides: object) -> SourceSchema:
    canonical = {"email": ("crm", "email"), "title": ("crm", "jobtitle"),
                 "lifecycle_stage": ("crm", "lifecyclestage"), "created_date": ("crm", "createdate"),
                 "lead_score": ("crm", "combined_score"), "industry": ("company", "industry"),
                 "employees": ("company", "numberofemployees")}  # fmt: skip
    fields: dict[str, object] = {
        "namespaces": {"crm": CRM, "company": COMPANY},
        "canonical": canonical,
        "fallback": {"industry": ("crm", "industry"), "employees": ("crm", "numemployees")},
        "mapped_by": {"industry": ("prefer_company", "industry"),
                      "employees": ("prefer_company", "employees")},
    }  # fmt: skip
    fields.update(overrides)
    return SourceSchema(**fields)  # type: ignore[arg-type]


def config_site(option: tuple[str, ...]) -> tuple[str, int | None, str]:
    return "agent.toml", 40 + len(option), "[connectors.crm] " + ".".join(option)


def check(write_rules, text: str, lists: dict[str, str] | None = None,
          **overrides: object) -> tuple[AgainstReport, Path]:  # fmt: skip
    path = write_rules(HEAD + text, lists=lists)
    ruleset = load_ruleset(path, raw_prefixes=PREFIXES)
    return check_against(ruleset.spec, schema(**overrides), config=config_site), path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def only(found: tuple[Problem, ...]) -> Problem:
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_the_shipped_shapes_raise_nothing(write_rules) -> None:
    report, _ = check(write_rules, """
[[gates]]
name = "present"
when = { all = [
  { field = "email", op = "present" },
  { field = "email_domain", op = "not_in", value = ["gmail.com"] },
  { field = "employees", op = "gte", value = 50 },
  { field = "lifecycle_stage", op = "in", value = ["customer", "Evangelist"] },
  { field = "crm.numemployees", op = "between", value = [50, 5000] },
  { field = "crm.createdate", op = "within_days", value = 30 },
  { field = "days_since(crm.createdate)", op = "lt", value = 30 },
  { field = "industry", op = "in", value = ["Software", "SaaS"] },
] }
""")
    assert report == AgainstReport(), report.to_dicts()


def test_a_property_that_does_not_exist_is_an_error_at_its_line_with_names_and_labels_suggested(write_rules) -> None:
    report, path = check(write_rules, """
[[gates]]
name = "size"
field = "company.numberofemploye"
op = "gte"
value = 50

[[gates]]
name = "by_label"
field = "crm.number_of_employees"
op = "in"
value = ["1000+"]
""")
    first, second = report.errors
    assert first.file.endswith("r.toml") and first.location == "gates.size"
    assert first.line == line_of(path, '"company.numberofemploye"')
    assert "the source's schema has no company property 'numberofemploye'" in first.message
    assert "did you mean company.numberofemployees (Number of Employees)?" in first.hint
    assert second.line == line_of(path, '"crm.number_of_employees"')
    assert "crm.numemployees (Number of Employees)" in second.hint  # found by its label


def test_a_number_comparison_on_free_text_warns_on_ranges_is_fine_and_on_words_never_holds(write_rules) -> None:
    report, path = check(write_rules, """
[[gates]]
name = "revenue"
field = "crm.annualrevenue"
op = "gte"
value = 1000000

[[gates]]
name = "ranges"
field = "crm.numemployees"
op = "gte"
value = 50

[[gates]]
name = "words"
field = "crm.lifecyclestage"
op = "gt"
value = 3
""")
    warning = only(report.warnings)
    assert warning.line == line_of(path, '"crm.annualrevenue"')
    assert "'gte' compares numbers, but crm.annualrevenue (Annual Revenue) is free text" in warning.message
    assert "holds only where someone typed a number" in warning.message
    error = only(report.errors)
    assert error.location == "gates.words" and "never holds" in error.message
    assert "an enumeration of 4 options (lead, salesqualifiedlead" in error.message


def test_date_operators_fit_dates_only(write_rules) -> None:
    report, _ = check(write_rules, """
[[gates]]
name = "on_text"
field = "crm.jobtitle"
op = "within_days"
value = 7

[[gates]]
name = "on_options"
field = "company.industry"
op = "older_than_days"
value = 7

[[gates]]
name = "days_since_text"
field = "days_since(crm.industry)"
op = "lt"
value = 7
""")
    assert [p.location for p in report.warnings] == ["gates.on_text", "gates.days_since_text"]
    error = only(report.errors)
    assert error.location == "gates.on_options" and "'older_than_days' compares dates" in error.message
    assert "within_days" not in error.hint and "equals" in error.hint  # what fits an enumeration


def test_values_compared_with_an_enumeration_must_be_options(write_rules) -> None:
    report, path = check(write_rules, """
[[gates]]
name = "label_typed"
field = "lifecycle_stage"
op = "in"
value = ["Sales Qualified Lead"]

[[gates]]
name = "case_matters"
field = "crm.lifecyclestage"
op = "equals"
value = "Customer"
case_sensitive = true

[[gates]]
name = "case_ignored"
field = "crm.lifecyclestage"
op = "equals"
value = "Customer"

[[gates]]
name = "one_typo"
field = "crm.lifecyclestage"
op = "not_in"
value = ["customer", "evangelst"]

[[gates]]
name = "industry"
field = "company.industry"
op = "in"
value = ["Software"]
""")
    label, case, industry = report.errors
    assert label.line == line_of(path, '"lifecycle_stage"')
    assert label.message == "'Sales Qualified Lead' is not an option of 'lifecycle_stage' (read from crm.lifecyclestage, Lifecycle Stage): the condition never holds"
    assert "did you mean 'salesqualifiedlead' (the value of the option labelled 'Sales Qualified Lead')?" in label.hint
    assert case.location == "gates.case_matters" and "'customer'" in case.hint
    assert industry.location == "gates.industry" and "'COMPUTER_SOFTWARE'" in industry.hint
    typo = only(report.warnings)
    assert typo.location == "gates.one_typo" and "'evangelst' is not an option" in typo.message
    assert "it never matches" in typo.message and "'evangelist'" in typo.hint


def test_a_negative_condition_on_no_option_holds_for_every_value(write_rules) -> None:
    report, _ = check(write_rules, """
[[gates]]
name = "g"
field = "crm.lifecyclestage"
op = "not_equals"
value = "SQL"
""")
    assert "the condition holds for every value" in only(report.errors).message


def test_multi_select_options_are_checked_one_by_one(write_rules) -> None:
    report, _ = check(write_rules, """
[[gates]]
name = "g"
field = "crm.interests"
op = "in"
value = ["webinar", "Pricing page"]
""")
    warning = only(report.warnings)
    assert "'Pricing page' is not an option of crm.interests" in warning.message
    assert "'pricing' (the value of the option labelled 'Pricing page')" in warning.hint


def test_list_files_are_checked_and_labels_of_listed_values_are_allowed(write_rules) -> None:
    lists = {"industries": "COMPUTER_SOFTWARE\nComputer Software\nInternet\nSoftware\nSaaS\n",
             "labels_only": "Computer Software\nBanking ltd\n"}  # fmt: skip
    report, path = check(write_rules, """
[[gates]]
name = "mixed"
field = "company.industry"
op = "in"
list = "industries"

[[gates]]
name = "labels"
field = "company.industry"
op = "in"
list = "labels_only"
""", lists=lists)
    warning = only(report.warnings)  # Computer Software is COMPUTER_SOFTWARE's label: meant so
    assert warning.line == line_of(path, 'field = "company.industry"')  # the first gate's
    # "Internet" is INTERNET, read ignoring case (the default)
    assert "2 of 5 entries of list 'industries' are not options of company.industry (Industry) ('Software', 'SaaS'): they never match" in warning.message
    assert warning.hint == "did you mean 'COMPUTER_SOFTWARE'? The system sends option values"
    error = only(report.errors)
    assert error.location == "gates.labels" and "the condition never holds" in error.message
    assert "'COMPUTER_SOFTWARE' (the value of the option labelled 'Computer Software')" in error.hint
    assert "'BANKING'" in error.hint


def test_a_free_text_fallback_may_hold_any_value(write_rules) -> None:
    text = '\n[[gates]]\nname = "g"\nfield = "industry"\nop = "in"\nvalue = ["Software"]\n'
    assert check(write_rules, text)[0] == AgainstReport()
    no_fallback, _ = check(write_rules, text, fallback={})
    assert "'Software' is not an option of 'industry' (read from company.industry" in only(no_fallback.errors).message


def test_canonical_fields_are_read_from_properties_that_exist(write_rules) -> None:
    canonical = {**schema().canonical, "title": ("crm", "job_title")}
    report, path = check(write_rules, """
[[gates]]
name = "title"
field = "title"
op = "present"

[[gates]]
name = "unmapped"
field = "is_customer"
op = "is_false"
""", canonical=canonical)
    error = only(report.errors)
    assert (error.file, error.line, error.location) == ("agent.toml", 42, "[connectors.crm] field_map.title")
    assert "'title' is read from crm.job_title, which the source's schema does not have" in error.message
    assert f"used by gates.title at {path.name}" in error.message.replace(str(path.parent) + "/", "")
    assert "did you mean crm.jobtitle (Job Title)?" in error.hint
    warning = only(report.warnings)
    assert warning.line == line_of(path, '"is_customer"') and "always missing" in warning.message
    assert warning.hint == 'map it: [connectors.crm] field_map.is_customer = "<property>"'


def test_a_retired_property_is_flagged_with_the_current_ones_to_choose_from(write_rules) -> None:
    canonical = {**schema().canonical, "lead_score": ("crm", "legacy_score")}
    report, _ = check(write_rules, "", canonical=canonical, mapped_by={})
    error = only(report.errors)
    assert error.location == "[connectors.crm] field_map.lead_score" and error.file == "agent.toml"
    assert "'lead_score' is read from crm.legacy_score, which is retired: it stopped updating" in error.message
    assert error.hint == "use one of the current properties instead: 'fit_score', 'combined_score'"
    unused, _ = check(write_rules, "", canonical={**canonical, "page_views": ("crm", "legacy_score")})
    assert [p.location for p in unused.warnings] == ["[connectors.crm] field_map.page_views"]
    raw, _ = check(write_rules, '[[gates]]\nname = "g"\nfield = "crm.legacy_score"\nop = "gte"\nvalue = 5\n')
    assert "'crm.legacy_score' is retired" in only(raw.errors).message


def test_a_new_operator_fits_by_the_types_it_declares(write_rules, monkeypatch) -> None:
    """The registry is the one place: an operator declaring date fields is offered for dates."""
    monkeypatch.setitem(operators_mod.OPS, "on_weekday", OpInfo("scalar", frozenset({"date"}), "on this weekday"))
    report, _ = check(write_rules, '[[gates]]\nname = "g"\nfield = "crm.jobtitle"\nop = "within_days"\nvalue = 3\n',
                      namespaces={"crm": {**CRM, "jobtitle": PropertyType("jobtitle", "bool")}, "company": COMPANY})
    assert "on_weekday" not in only(report.errors).hint
    report, _ = check(write_rules, '[[gates]]\nname = "g"\nfield = "crm.jobtitle"\nop = "is_true"\n',
                      namespaces={"crm": {**CRM, "jobtitle": PropertyType("jobtitle", "date")}, "company": COMPANY})
    assert "on_weekday" in only(report.errors).hint


@pytest.mark.parametrize(("declared", "sure", "weak"), [
    (PropertyType("x", "string"), {"string"}, {"number", "date", "bool"}),
    (PropertyType("x", "number"), {"number", "string"}, set()),
    (PropertyType("x", "datetime"), {"date", "string"}, set()),
    (PropertyType("x", "enumeration", options=RANGES), {"string", "number"}, set()),
    (PropertyType("x", "enumeration", options=(("opt_2", "51-200 employees"),)), {"string", "number"}, set()),
    (PropertyType("x", "enumeration", options=(("true", "Yes"), ("false", "No"))), {"string", "bool"}, set()),
    (PropertyType("x", "enumeration", options=STAGES), {"string"}, set()),
    (PropertyType("x", "enumeration"), {"string"}, {"number", "bool"}),
])  # fmt: skip
def test_what_each_declared_type_supplies(declared, sure, weak) -> None:
    assert supplies(declared) == (frozenset(sure), frozenset(weak))


def test_the_check_reads_nothing_from_disk(write_rules, tmp_path) -> None:
    """Pure: lists and lines were taken when the ruleset loaded."""
    path = write_rules(HEAD + '[[gates]]\nname = "g"\nfield = "company.industry"\nop = "in"\nlist = "x"\n',
                       lists={"x": "Banks\n"})
    spec = load_ruleset(path, raw_prefixes=PREFIXES).spec
    for file in [path, *tmp_path.glob("lists/*")]:
        file.unlink()
    found = check_against(spec, schema(), config=config_site)
    assert "'BANKING'" in only(found.errors).hint and only(found.errors).line == 13


def test_an_unmapped_field_is_said_once_with_the_properties_the_source_suggests(write_rules) -> None:
    canonical = {k: v for k, v in schema().canonical.items() if k != "lead_score"}
    report, path = check(write_rules, "", canonical=canonical,
                         suggested={"lead_score": ("fit_score", "combined_score")})
    warning = only(report.warnings)  # HEAD's criterion uses it; one warning however many uses
    assert warning.line == line_of(path, '"lead_score"') and warning.location == "criteria.score.checks[0]"
    assert warning.hint == 'map it: [connectors.crm] field_map.lead_score = "fit_score" or "combined_score"'
    twice, _ = check(write_rules, '[[gates]]\nname = "g"\nfield = "lead_score"\nop = "present"\n',
                     canonical=canonical)
    assert "(2 conditions use it)" in only(twice.warnings).message


def test_a_missing_fallback_is_reported_once_and_the_property_read_is_still_checked(write_rules) -> None:
    report, _ = check(write_rules, '[[gates]]\nname = "g"\nfield = "industry"\nop = "in"\nvalue = ["Banks"]\n',
                      fallback={"industry": ("crm", "industri")})
    value, mapping = report.errors  # conditions first, then the mapping
    assert mapping.location == "[connectors.crm] field_map.industry"
    assert "'industry' is read when that is empty from crm.industri" in mapping.message
    assert "'Banks' is not an option of 'industry' (read from company.industry" in value.message
