#!/usr/bin/env bash
# make demo: a sample SQLite shop copied to another SQLite file, with progress bars, then
# counts and checksums of both sides.
set -euo pipefail
repo="$(pwd)"
ms="$repo/.venv/bin/moonshift"
work="$(mktemp -d -t moonshift-demo.XXXXXX)"
cd "$work"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

echo "demo folder: $work"
step "python scripts/make_shop.py shop.db"
"$repo/.venv/bin/python" "$repo/scripts/make_shop.py" shop.db --rows 200000

cat > migrations.yaml <<'YAML'
migrations:
  - id: shop-copy
    name: Shop to the reporting copy
    tags: [demo]
    kind: copy
    source: {url: "sqlite:///shop.db", name: shop}
    target: {url: "sqlite:///reporting.db", name: reporting}
    copy:
      tables: "*"
      batch_size: 10000
      create_target: if_missing
YAML

step "moonshift validate migrations.yaml"
"$ms" validate migrations.yaml
step "moonshift apply migrations.yaml"
"$ms" apply migrations.yaml
step "moonshift plan shop-copy"
"$ms" plan shop-copy
step "moonshift run-now shop-copy --wait"
"$ms" run-now shop-copy --wait
step "moonshift verify shop-copy"
"$ms" verify shop-copy
step "moonshift perf shop-copy"
"$ms" perf shop-copy
step "moonshift history shop-copy"
"$ms" history shop-copy
