"""The summary report of a certificate, for people: Markdown and HTML from the statement
itself (so what it says is what was signed), with the divergences kept beside it."""

from __future__ import annotations

import html
from typing import Any


def markdown(statement: dict[str, Any], signers: list[str]) -> str:
    p = statement["predicate"]
    lines = [
        f"# Validation certificate: {p['migration']}",
        "",
        f"- run: {p['run']['id']} ({p['run']['state']}), spec version {p['spec']['version']}",
        f"- spec digest (sha256): `{p['spec']['digest']['sha256']}`",
        f"- plan digest: {_plan(p)}",
        f"- approvals: {_approvals(p['approvals'])}",
        f"- validation: {p['validation']['id']}, {p['validation']['state']}, "
        f"at {p['validation']['ended_at']}",
        f"- signed by: {', '.join(f'`{s[:16]}`' for s in signers) or 'nobody'}",
        "",
        "## Perspectives",
        "",
        "| perspective | result | divergences | summary |",
        "| --- | --- | --- | --- |",
    ]
    for r in p["validation"]["perspectives"]:
        result = "passed" if r["passed"] else "FAILED"
        lines.append(f"| {r['perspective']} | {result} | {r['found']} | {_cell(r['summary'])} |")
    lines += ["", "## Subjects", "", "| name | sha256 |", "| --- | --- |"]
    lines += [f"| {s['name']} | `{s['digest']['sha256']}` |" for s in statement["subject"]]
    lines += ["", "## Counts", ""]
    lines += [f"- {name}: {value:,}" for name, value in sorted(p["counts"].items())]
    return "\n".join(lines) + "\n"


def to_html(statement: dict[str, Any], signers: list[str]) -> str:
    """The same report as a page of its own (no script, no external resource)."""
    body = []
    in_table = False
    for line in markdown(statement, signers).splitlines():
        if line.startswith("| ---"):
            continue
        if line.startswith("|"):
            cells = [html.escape(c.strip().strip("`")) for c in line.strip("|").split("|")]
            tag = "td" if in_table else "th"
            body.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
            if not in_table:
                body[-1] = "<table>" + body[-1]
            in_table = True
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("- "):
            body.append(f"<p>{html.escape(line[2:].replace('`', ''))}</p>")
    if in_table:
        body.append("</table>")
    title = html.escape(f"Validation certificate: {statement['predicate']['migration']}")
    style = "body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em .6em}"
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _plan(predicate: dict[str, Any]) -> str:
    digest = (predicate.get("plan") or {}).get("digest")
    return f"`{digest['sha256']}`" if digest else "none stored (the spec's digest stands for it)"


def _approvals(approvals: list[dict[str, Any]]) -> str:
    held = [a for a in approvals if a["decision"] == "approved" and not a["void"]]
    if not held:
        return "none required"
    return ", ".join(f"{a['actor']} ({a['plan_digest']['sha256'][:12]})" for a in held)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
