"""The commands of the REST API: ``serve``, and ``keys`` to make, list and revoke API keys."""

from __future__ import annotations

from pathlib import Path

import click

from moonshift.app import SCOPES, Moonshift, current_user
from moonshift.cli import output as o
from moonshift.cli.core import cli, command, json_option
from moonshift.cli.logs import setup_logging


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8420,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port; 0: any free one (the log's first lines say which).",
)
@click.option(
    "--with-daemon", is_flag=True, help="Run the scheduler in this process too (a single box)."
)
@click.option(
    "--max-concurrent",
    default=4,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="With --with-daemon: runs executed at once.",
)
@click.option("--json", "as_json", is_flag=True, help="Log JSON lines instead of text.")
@command
def serve(
    app: Moonshift, host: str, port: int, with_daemon: bool, max_concurrent: int, as_json: bool
) -> None:
    """Serve the REST API (under /v1; docs at /docs) and the web dashboard (at /) until
    SIGTERM or Ctrl-C.

    Without --with-daemon, any number of API processes and daemons share one state store.
    Make a key first: moonshift keys create --name ci --scope operate.

    \b
    Example:
      moonshift serve --port 8420 --with-daemon
    """
    # Loaded here: every other command starts without the web stack.
    from moonshift.api.serve import serve as run_server
    from moonshift.web import install as dashboard

    config = app.daemons.config(max_concurrent=max_concurrent) if with_daemon else None
    handler = setup_logging(as_json)
    run_server(
        app,
        host=host,
        port=port,
        daemon=config,
        log_handler=handler if as_json else None,
        faces=(dashboard,),
    )


@cli.group()
@json_option
def keys(as_json: bool) -> None:
    """API keys: make one (shown once), list them, revoke one; and the signing key.

    Scopes: feed (the calendar feed), read (every GET), operate (start and steer
    migrations), admin (define migrations, connections and keys). ``init-signing`` makes
    the Ed25519 key pair that signs certificates.

    \b
    Example:
      moonshift keys create --name ci --scope operate
      moonshift keys list
      moonshift keys revoke ci
      moonshift keys init-signing
    """


@keys.command(name="init-signing")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write signing.key and signing.pub (default: keys/ in the moonshift home).",
)
@json_option
@command(flags={"folder": "--dir"})
def keys_init_signing(app: Moonshift, folder: Path | None, as_json: bool) -> None:
    """Make an Ed25519 key pair that signs certificates: signing.key (mode 0600) and
    signing.pub, outside the state store. Each signer makes their own (--dir).

    \b
    Example:
      moonshift keys init-signing --dir ~/.moonshift-signer
    """
    made = app.certificates.init_signing(folder)
    if as_json:
        o.print_json(made)
        return
    o.out.print(f"signing key {made.private_key} (keep it secret), public key {made.public_key}")
    o.out.print(f"key id {made.key_id}")


@keys.command(name="create")
@click.option("--name", required=True, help="Who or what uses it; the audit log says api:NAME.")
@click.option("--scope", required=True, type=click.Choice(SCOPES), help="What it may do.")
@json_option
@command(flags={"name": "--name", "scope": "--scope"})
def keys_create(app: Moonshift, name: str, scope: str, as_json: bool) -> None:
    """Make a key and print it, this once: only its hash is kept.

    \b
    Example:
      moonshift keys create --name ci --scope operate --json
    """
    made = app.keys.create(name, scope, actor=current_user())
    if as_json:
        o.print_json(made)
        return
    o.err.print(f"key {made.name} ({made.scope}); it is shown only now:")
    print(made.key)


@keys.command(name="list")
@json_option
@command
def keys_list(app: Moonshift, as_json: bool) -> None:
    """List keys (their names, scopes and first characters; never the keys).

    \b
    Example:
      moonshift keys list
    """
    found = app.keys.list()
    if as_json:
        o.print_json(found)
        return
    grid = o.table("name", "scope", "starts with", "created", "by", "revoked")
    for k in found:
        grid.add_row(
            k.name,
            k.scope,
            k.prefix + "…",
            o.when(k.created_at),
            k.created_by,
            o.when(k.revoked_at),
        )
    o.out.print(grid if found else "no keys")


@keys.command(name="revoke")
@click.argument("name")
@json_option
@command
def keys_revoke(app: Moonshift, name: str, as_json: bool) -> None:
    """Revoke a key: requests with it are refused from now on.

    \b
    Example:
      moonshift keys revoke ci
    """
    revoked = app.keys.revoke(name, actor=current_user())
    o.print_json(revoked) if as_json else o.out.print(f"key {name} is revoked")
