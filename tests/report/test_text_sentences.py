"""The text report says where one lead counts more than once (issue #10.5)."""

from __future__ import annotations

import re

from click.testing import CliRunner
from report_expected import expected, load

from sync_agent.cli import main


def test_the_text_report_says_rejected_leads_can_count_under_several_reasons(report_world):
    out = CliRunner().invoke(main, ["report", "--config", str(report_world.config.path)])
    assert out.exit_code == 0, out.output
    want = expected(*load(report_world.config.audit_db))
    assert want.several_reasons > 0, "the fixture has no lead with several reasons"
    said = re.search(r"(\d[\d,]*) have several reasons, so the counts add up to more", out.output)
    assert said, out.output
    assert int(said.group(1).replace(",", "")) == want.several_reasons
