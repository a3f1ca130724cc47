"""The certificate: an in-toto statement in a DSSE envelope signed with Ed25519 by several
signers; flipping any byte, or verifying with another key, fails; securesystemslib's DSSE
code accepts a good one; the CLI issues it with its summary and verifies it offline."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

from moonshift.app import Moonshift, Settings
from moonshift.domain.lifecycle import State
from moonshift.domain.validation_spec import Perspective
from moonshift.errors import Conflict
from moonshift.validation.certificate import load_public
from tests.copy.helpers import apply, copy_spec, create, run_copy
from tests.helpers import moonshift
from tests.validation.test_lifecycle import urls


def certified(app: Moonshift, tmp_path: Path, *, approval: bool = False) -> None:
    source, target = urls(tmp_path)
    spec = {**copy_spec(source, target, tables="*"), "validation": {"auto": True}}
    if approval:
        spec["approval"] = {"required": True}
    apply(app, spec)
    run = run_copy(app)
    if approval:
        assert run.state is State.AWAITING_APPROVAL, run.reason
        app.plans.approve("c", actor="user:ann")
        run = app.runs.execute(run.id)
    assert run.state is State.CERTIFIED, run.reason


def test_two_signers_and_any_changed_byte_or_other_key_fails(
    tmp_path: Path, copy_app: Moonshift
) -> None:
    certified(copy_app, tmp_path, approval=True)
    a = copy_app.certificates.init_signing(tmp_path / "a")
    b = copy_app.certificates.init_signing(tmp_path / "b")
    other = copy_app.certificates.init_signing(tmp_path / "other")
    assert stat.S_IMODE(Path(a.private_key).stat().st_mode) == 0o600
    with pytest.raises(Conflict, match="never replaced"):
        copy_app.certificates.init_signing(tmp_path / "a")

    made = copy_app.certificates.issue("c", signing_keys=[Path(a.private_key), Path(b.private_key)])
    assert made.key_ids == [a.key_id, b.key_id]
    statement = made.statement
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    names = [s["name"] for s in statement["subject"]]
    assert names == ["table:customers", "table:orders", "report"]
    predicate = statement["predicate"]
    assert predicate["run"]["state"] == "certified"
    perspectives = predicate["validation"]["perspectives"]
    assert [p["perspective"] for p in perspectives] == list(Perspective)
    assert predicate["counts"]["row_level.target_rows"] == 80
    assert len(predicate["spec"]["digest"]["sha256"]) == 64
    plan = copy_app.store.run_plan(predicate["run"]["id"])
    assert plan is not None and predicate["plan"]["digest"]["sha256"] == plan.digest
    assert [(a["actor"], a["decision"]) for a in predicate["approvals"]] == [
        ("user:ann", "approved")
    ]
    assert predicate["approvals"][0]["plan_digest"]["sha256"] == plan.digest
    assert "user:ann" in copy_app.certificates.report("c", "markdown")

    envelope = (json.dumps(made.envelope, indent=2) + "\n").encode()
    keys = [Path(k.public_key).read_bytes() for k in (a, b)]
    check = copy_app.certificates.verify(envelope, keys)
    assert check.valid and check.migration_id == "c" and len(check.subjects) == 3
    for position in range(len(envelope)):
        flipped = bytearray(envelope)
        flipped[position] ^= 0x01
        assert not copy_app.certificates.verify(bytes(flipped), keys).valid, position
    wrong = copy_app.certificates.verify(envelope, [Path(other.public_key).read_bytes()])
    assert not wrong.valid and "no signature by key" in (wrong.reason or "")

    independent = Envelope.from_dict(made.envelope)
    accepted = independent.verify(
        [_sslib(a.public_key, a.key_id), _sslib(b.public_key, b.key_id)], 2
    )
    assert set(accepted) == {a.key_id, b.key_id}
    assert json.loads(independent.payload) == statement


def _sslib(path: str, key_id: str) -> SSlibKey:
    raw = load_public(Path(path).read_bytes()).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return SSlibKey(key_id, "ed25519", "ed25519", {"public": raw.hex()})


def test_no_certificate_without_a_certified_run(tmp_path: Path, copy_app: Moonshift) -> None:
    source, target = urls(tmp_path)
    apply(copy_app, copy_spec(source, target, tables="*"))
    assert run_copy(copy_app).state is State.COMPLETED
    create(target, "DELETE FROM orders WHERE id = 1")
    assert not copy_app.validation.run("c", actor="test").passed
    with pytest.raises(Conflict, match="failed: no certificate"):
        copy_app.certificates.issue("c")


def test_the_cli_issues_the_certificate_with_its_summary_and_verifies_it_offline(
    tmp_path: Path,
) -> None:
    home = tmp_path / ".moonshift"
    app = Moonshift(Settings(state_url=f"sqlite:///{home / 'state.db'}", home=home), environ={})
    try:
        certified(app, tmp_path)
    finally:
        app.close()
    made = moonshift(tmp_path, "keys", "init-signing", "--json")
    assert made.returncode == 0, made.stderr
    public = json.loads(made.stdout)["public_key"]
    issued = moonshift(tmp_path, "certificate", "c", "-o", "c.cert.json")
    assert issued.returncode == 0, issued.stderr
    assert "| row_level | passed |" in (tmp_path / "c.cert.md").read_text()
    assert "<h1>Validation certificate: c</h1>" in (tmp_path / "c.cert.html").read_text()

    offline = {"MOONSHIFT_STATE": "postgresql://nobody@127.0.0.1:1/none"}  # never opened
    good = moonshift(tmp_path, "certificate", "verify", "c.cert.json", "--key", public, env=offline)
    assert good.returncode == 0, good.stderr
    assert "valid: c run 1, 3 subjects" in good.stdout
    text = (tmp_path / "c.cert.json").read_text()
    (tmp_path / "bad.json").write_text(text.replace('"sig": "', '"sig": "A', 1))
    bad = moonshift(tmp_path, "certificate", "verify", "bad.json", "--key", public, env=offline)
    assert bad.returncode == 1 and "INVALID" in bad.stderr
