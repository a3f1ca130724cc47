#!/usr/bin/env bash
# make demo: a command migration applied, run in the foreground, and inspected.
set -euo pipefail
ms="$(pwd)/.venv/bin/moonshift"
work="$(mktemp -d -t moonshift-demo.XXXXXX)"
cd "$work"
step() { printf '\n\033[1m$ moonshift %s\033[0m\n' "$*"; }

cat > migrations.yaml <<'YAML'
migrations:
  - id: nightly-export
    name: Nightly export
    description: Exports yesterday's orders (a stand-in for a real job).
    tags: [demo, nightly]
    kind: command
    command:
      run: |
        echo "exporting orders for ${MOONSHIFT_MIGRATION_ID}, run ${MOONSHIFT_RUN_ID}"
        for batch in 1 2 3; do echo "batch $batch: 1000 rows"; sleep 0.3; done
        echo "done: 3000 rows"
      env:
        REGION: "${DEMO_REGION:-eu-west}"
      timeout: 5m
YAML
cat > broken.yaml <<'YAML'
id: broken
kind: command
command:
  run: echo hi
  timout: soon
YAML

echo "demo folder: $work"
step validate broken.yaml
"$ms" validate broken.yaml || echo "(exit code $? : nothing was written)"
step apply migrations.yaml
"$ms" apply migrations.yaml
step run-now nightly-export --wait
"$ms" run-now nightly-export --wait
step runs nightly-export
"$ms" runs nightly-export
step logs 1
"$ms" logs 1
step history nightly-export
"$ms" history nightly-export
