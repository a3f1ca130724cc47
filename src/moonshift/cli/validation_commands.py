"""The CLI's validation commands: ``validation run`` (prove a copy went right),
``certificate`` (issue one, verify one offline). Thin faces over ``app.validation`` and
``app.certificates``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape

from moonshift.app import Moonshift, current_user, views
from moonshift.cli import output as o
from moonshift.cli.core import cli, command, json_option


@cli.group()
@json_option
def validation(as_json: bool) -> None:
    """Validate a copied migration: structural, row-level and referential perspectives.

    (``moonshift validate FILE`` checks a spec file.)

    \b
    Example:
      moonshift validation run shop-copy
    """


@validation.command(name="run")
@click.argument("migration_id")
@json_option
@command
def validation_run(app: Moonshift, migration_id: str, as_json: bool) -> None:
    """Validate the copy now; exit 1 if any perspective fails.

    Its latest run, when completed, moves to validating and ends certified (every
    perspective passed) or failed (with the divergences); a run that ended already stays
    as it is and the validation is kept beside it.

    \b
    Example:
      moonshift validation run shop-copy
    """
    report = app.validation.run(migration_id, actor=current_user())
    _print(app, report, as_json)
    if not report.passed:
        sys.exit(1)


@validation.command(name="show")
@click.argument("migration_id")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--after", type=int, help="The `next` a previous page printed.")
@json_option
@command(flags={"limit": "--limit", "after": "--after"})
def validation_show(
    app: Moonshift, migration_id: str, limit: int, after: int | None, as_json: bool
) -> None:
    """Show the newest validation: each perspective's result, and its divergences a page
    at a time, each with its key and both sides' values (redacted columns masked).

    \b
    Example:
      moonshift validation show shop-copy --limit 100
    """
    report = app.validation.latest(migration_id)
    page = app.validation.divergences(migration_id, limit=limit, after=after)
    if as_json:
        o.print_json(views.ValidationDetail(validation=report, divergences=page))
        return
    _print(app, report, False, page=page)


def _print(
    app: Moonshift,
    report: views.ValidationReport,
    as_json: bool,
    page: views.Page[views.Divergence] | None = None,
) -> None:
    if as_json:
        o.print_json(report)
        return
    run = f", run {report.run_id} {report.run_state}" if report.run_id is not None else ""
    o.out.print(f"validation {report.id} of {report.migration_id}: {report.state}{run}")
    grid = o.table("perspective", "result", "divergences", "summary")
    for r in report.results:
        mark = "[green]passed[/]" if r.passed else "[red]FAILED[/]"
        grid.add_row(r.perspective, mark, f"{r.found:,}", escape(r.summary))
    o.out.print(grid)
    if report.state == "error" and report.summary:
        o.err.print(f"[red]error:[/] {escape(report.summary)}", highlight=False)
    if report.passed and page is None:
        return
    shown = page or app.validation.divergences(report.migration_id, limit=20)
    for d in shown.items:
        o.out.print(f"  {d.perspective} {escape(d.table)}: {d.kind}: {escape(d.what)}")
        if page is not None:
            for side, values in (("source", d.source), ("target", d.target)):
                if values:
                    text = ", ".join(f"{k}={v}" for k, v in values.items())
                    o.out.print(f"      {side}: {escape(text)}", highlight=False)
    if shown.next:
        o.out.print(
            f"  ... more: moonshift validation show {report.migration_id} --after {shown.next}"
        )


class _CertificateGroup(click.Group):
    """``moonshift certificate ID`` issues; ``moonshift certificate verify FILE`` checks."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = next((a for a in args if not a.startswith("-")), None)
        if first is not None and first not in self.commands:
            args = ["issue", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_CertificateGroup)
@json_option
def certificate(as_json: bool) -> None:
    """Issue a certified copy's signed certificate, or verify one offline.

    The certificate is an in-toto Statement v1 in a DSSE envelope, signed with Ed25519:
    its subjects are the canonical hashes of every copied table and of the validation
    report; it names the spec's digest, the approvals, every perspective's result, the
    counts and the checkpoint digests.

    \b
    Example:
      moonshift certificate shop-copy -o shop-copy.cert.json
      moonshift certificate verify shop-copy.cert.json --key signing.pub
    """


@certificate.command(name="issue")
@click.argument("migration_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the envelope here, and its summary report beside it (.md and .html).",
)
@click.option(
    "--signing-key",
    "signing_keys",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A signer's private key (repeat for several; default: keys/signing.key).",
)
@json_option
@command(flags={"signing_key": "--signing-key"})
def certificate_issue(
    app: Moonshift,
    migration_id: str,
    output: Path | None,
    signing_keys: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Sign the certificate of the newest validation (it passed and certified its run).

    \b
    Example:
      moonshift certificate issue shop-copy -o shop-copy.cert.json
    """
    made = app.certificates.issue(migration_id, signing_keys=list(signing_keys))
    envelope = json.dumps(made.envelope, indent=2) + "\n"
    if output is None:
        print(envelope, end="") if not as_json else o.print_json(made)
        return
    output.write_text(envelope)
    stem = output.with_suffix("") if output.suffix == ".json" else output
    stem.with_name(stem.name + ".md").write_text(app.certificates.report(migration_id, "markdown"))
    stem.with_name(stem.name + ".html").write_text(app.certificates.report(migration_id, "html"))
    if as_json:
        o.print_json(made)
    else:
        o.out.print(f"certificate of {migration_id} in {output}, summary beside it (.md, .html)")
        o.out.print("signed by " + ", ".join(k[:16] for k in made.key_ids))


@certificate.command(name="verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "keys",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signer's public key (PEM); repeat: each must have signed it.",
)
@json_option
@command(flags={"key": "--key"})
def certificate_verify(app: Moonshift, file: Path, keys: tuple[Path, ...], as_json: bool) -> None:
    """Verify a certificate offline (no state store); exit 1 if it does not verify.

    \b
    Example:
      moonshift certificate verify shop-copy.cert.json --key signing.pub
    """
    check = app.certificates.verify(file.read_bytes(), [k.read_bytes() for k in keys])
    if as_json:
        o.print_json(check)
    elif check.valid:
        o.out.print(
            f"[green]valid[/]: {check.migration_id} run {check.run_id}, "
            f"{len(check.subjects)} subjects, signed by " + ", ".join(k[:16] for k in check.key_ids)
        )
    else:
        o.err.print(f"[red]INVALID[/]: {escape(check.reason or '')}", highlight=False)
    if not check.valid:
        sys.exit(1)
