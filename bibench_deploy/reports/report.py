"""Build a report from a fleet run directory and write it: CSV tables, summary.md, figures
(PNG, SVG or PDF)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bibench_deploy import formats
from bibench_deploy.errors import UsageError
from bibench_deploy.reports import plots
from bibench_deploy.reports.aggregate import aggregate, undeployable
from bibench_deploy.reports.compare import compare, render_compare
from bibench_deploy.reports.hardware import algorithms, hardware_fields, hardware_table
from bibench_deploy.reports.headline import headline
from bibench_deploy.reports.load import Run, load_manifests, load_run
from bibench_deploy.reports.markdown import render_markdown
from bibench_deploy.reports.schema import (AGGREGATE_FIELDS, COMPARE_FIELDS, HEADLINE_FIELDS,
                                           SUMMARY_FIELDS, UNDEPLOYABLE_FIELDS, csv_text)
from bibench_deploy.reports.summary import manifest_value, summarize

FIGURE_FORMATS = ("png", "svg", "pdf")
FORMATS = ("csv", "md", *FIGURE_FORMATS)


@dataclass
class Report:
    run: Run
    summary: list[dict[str, Any]]
    aggregates: list[dict[str, Any]]
    undeployable: list[dict[str, Any]]
    warnings: list[str]
    headline: list[dict[str, Any]]
    hardware: list[dict[str, Any]]


def build_report(run_dir: Path, models_dir: Path) -> Report:
    run = load_run(run_dir)
    manifests, problems = load_manifests(models_dir, [r["model"] for r in run.rows])
    summary, join_warnings = summarize(run.rows, manifests)
    warnings = [*run.warnings, *_missing_warnings(models_dir, problems), *join_warnings,
                *_version_warnings(run, manifests), *_fallback_warnings(manifests)]
    best = headline(run.rows, summary)
    aggregates = aggregate(best)
    return Report(run, summary, aggregates, undeployable(summary, manifests), warnings, best,
                  hardware_table(best, aggregates, run.rows, manifests))


def _missing_warnings(models_dir: Path, problems: dict[str, str]) -> list[str]:
    if not problems:
        return []
    return [f"no usable manifest under {models_dir} for {len(problems)} model(s): {', '.join(problems)}; "
            "their rows have latency only"] + [f"{name}: {why}" for name, why in problems.items()]


def _fallback_warnings(manifests: dict[str, dict[str, Any]]) -> list[str]:
    """The audit's one-line float fallback finding of each model that has one."""
    lines = []
    for name, manifest in sorted(manifests.items()):
        fallback = manifest_value(manifest, f"audit.{formats.LCE}.float_fallback") or {}
        if fallback.get("layers"):
            lines.append(f"{name}: {fallback['line']}")
    return lines


def _version_warnings(run: Run, manifests: dict[str, dict[str, Any]]) -> list[str]:
    measured = {str(r["tool_version"]) for r in run.rows if r.get("tool_version")}
    built = {str(m["tool_version"]) for m in manifests.values() if m.get("tool_version")}
    warnings = []
    if len(measured) > 1:
        warnings.append(f"rows were measured by different tool versions: {', '.join(sorted(measured))}")
    if len(built) > 1:
        warnings.append(f"models were built by different tool versions: {', '.join(sorted(built))}")
    return warnings


def parse_formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"unknown format {', '.join(unknown) or repr(text)}; choose from {', '.join(FORMATS)}")
    return formats


def write_csv(path: Path, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(fields)
        writer.writerows([[csv_text(row[name]) for name in fields] for row in rows])
    return path


def write_report(report: Report, out_dir: Path, formats: tuple[str, ...] = FORMATS,
                 baseline: Report | None = None) -> list[Path]:
    """Write the chosen formats into `out_dir`; with `baseline`, also compare.csv / compare.md
    (this report as B against `baseline` as A). Returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if "csv" in formats:
        written += [write_csv(out_dir / "summary.csv", SUMMARY_FIELDS, report.summary),
                    write_csv(out_dir / "headline.csv", HEADLINE_FIELDS, report.headline),
                    write_csv(out_dir / "aggregate.csv", AGGREGATE_FIELDS, report.aggregates),
                    write_csv(out_dir / "hardware_track.csv",
                              hardware_fields(algorithms(report.headline)), report.hardware),
                    write_csv(out_dir / "undeployable.csv", UNDEPLOYABLE_FIELDS, report.undeployable)]
    figures = [p for fmt in formats if fmt in FIGURE_FORMATS for p in _write_figures(report, out_dir, fmt)]
    written += figures
    if "md" in formats:
        text = render_markdown(report, [p.name for p in figures if p.suffix != ".pdf"])
        (out_dir / "summary.md").write_text(text)
        written.append(out_dir / "summary.md")
    if baseline is not None:
        rows = compare(baseline.summary, report.summary)
        if "csv" in formats:
            written.append(write_csv(out_dir / "compare.csv", COMPARE_FIELDS, rows))
        if "md" in formats:
            (out_dir / "compare.md").write_text(render_compare(baseline.run.run_id, report.run.run_id, rows))
            written.append(out_dir / "compare.md")
    return written


def _write_figures(report: Report, out_dir: Path, fmt: str = "png") -> list[Path]:
    made = [plots.speedup_plot(report.headline, out_dir / f"speedup.{fmt}"),
            plots.speedup_insns_plot(report.headline, out_dir / f"speedup_insns.{fmt}"),
            plots.latency_plot(report.summary, out_dir / f"latency.{fmt}"),
            plots.op_breakdown_plot(report.run.op_profile, out_dir / f"op_breakdown.{fmt}")]
    return [p for p in made if p is not None]
