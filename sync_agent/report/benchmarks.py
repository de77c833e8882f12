"""The MQL→SAL benchmark bands quoted in the SAL literature, and what to say about a rate.

The figures come from the seed articles (``shared/docs/domain.md``, "Metrics"): 20–30 % for
fast sales cycles, 5–15 % in technology, and below 10 % a sign that marketing and sales do
not agree on what a good lead is. One place, so the text report, the JSON and the HTML
charts shade the same bands and give the same advice.
"""

from __future__ import annotations

#: (low, high, label) in percent.
BANDS: tuple[tuple[float, float, str], ...] = (
    (20.0, 30.0, "fast sales cycles"),
    (5.0, 15.0, "technology"),
)
MISALIGNMENT_BELOW = 10.0
SOURCE = "benchmarks quoted in the SAL literature"


def describe_bands() -> str:
    """One line naming the bands, for the top of a report."""
    bands = ", ".join(f"{lo:g}–{hi:g} % for {label}" for lo, hi, label in BANDS)
    return (
        f"MQL→SAL {SOURCE}: {bands}; below {MISALIGNMENT_BELOW:g} % suggests misalignment "
        "between marketing and sales"
    )


def in_bands(rate: float) -> list[str]:
    return [label for lo, hi, label in BANDS if lo <= rate <= hi]


def assess(rate: float | None) -> str:
    """Place a conversion rate against the bands."""
    if rate is None:
        return "no MQLs evaluated"
    notes = [
        f"within the {label} band ({lo:g}–{hi:g} %)" for lo, hi, label in BANDS if lo <= rate <= hi
    ]
    if rate < MISALIGNMENT_BELOW:
        notes.append(
            f"below {MISALIGNMENT_BELOW:g} %: suggests misalignment between marketing and sales"
        )
    return "; ".join(notes) or "outside the benchmark bands"


def advise(rate: float | None, top_rejection: str | None = None) -> str:
    """One line of what to look at first when the rate is below 10 % or outside the bands.

    Empty when the rate sits inside a band and above the misalignment line. The advice is
    the seed articles': analyse why leads do not progress and feed sales' rejection reasons
    back into the criteria (low rate); compare sources and channels (between the bands);
    check that accepted leads go on to be qualified by sales (a rate above every band).
    """
    if rate is None:
        return ""
    top = f" (the largest: {top_rejection})" if top_rejection else ""
    if rate < MISALIGNMENT_BELOW:
        return (
            "Look first at the rejection reasons" + top + ": agree the acceptance criteria "
            "with sales and feed their reasons back into the scoring."
        )
    if in_bands(rate):
        return ""
    high = max(hi for _, hi, _ in BANDS)
    if rate > high:
        return (
            "Above every band: check that sales goes on to qualify these SALs (SAL→SQL rate) "
            "before trusting the rate; the acceptance bar or a fast lane may be too lenient."
        )
    return (
        "Between the bands: compare the rate per source and campaign first, to see which "
        "one moves it (the bands depend on the length of the sales cycle)."
    )
