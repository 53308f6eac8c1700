"""Keep the column tables of the docs generated from the schema.

A doc marks each table with `<!-- columns: NAME -->` ... `<!-- /columns -->`; `fill_column_tables`
replaces what is between the marks by `columns_markdown` of that schema. Regenerate with

    python -m bibench_deploy.reports.docs docs/report.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bibench_deploy.reports import schema

TABLES = {
    "latency": schema.LATENCY_COLUMNS,
    "summary": schema.SUMMARY_COLUMNS,
    "headline": schema.HEADLINE_COLUMNS,
    "aggregate": schema.AGGREGATE_COLUMNS,
    "hardware": schema.HARDWARE_COLUMNS,
    "undeployable": schema.UNDEPLOYABLE_COLUMNS,
    "compare": schema.COMPARE_COLUMNS,
    "op_profile": schema.OP_PROFILE_COLUMNS,
}
_MARKED = re.compile(r"(<!-- columns: (\w+) -->\n)(.*?)(<!-- /columns -->)", re.S)


def fill_column_tables(text: str) -> str:
    return _MARKED.sub(lambda m: m[1] + schema.columns_markdown(TABLES[m[2]]) + m[4], text)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(fill_column_tables(path.read_text()))
