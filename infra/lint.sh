#!/usr/bin/env bash
# cfn-lint over the synthesized templates: the default stack (kubeconfig access) and one with every
# option on (EKS access entries, VPC placement, alarm topic). Installs cfn-lint into a private venv
# on first use. Fails on any finding: errors (exit code bit 2), warnings (bit 4), informational
# findings (bit 8), or when cfn-lint cannot run (bit 1). No rule is ignored.
# With arguments, lints the given template files instead of synthesizing.
set -euo pipefail

CFN_LINT_VERSION="${CFN_LINT_VERSION:-1.58.0}"
VENV="${DAEMONLESS_PYTOOLS:-$HOME/.cache/daemonless/pytools}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ "$("$VENV/bin/cfn-lint" --version 2>/dev/null || true)" != "cfn-lint $CFN_LINT_VERSION" ]; then
  echo "installing cfn-lint $CFN_LINT_VERSION into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION" >&2
fi

lint() {
  local rc=0
  "$VENV/bin/cfn-lint" --format parseable -- "$@" || rc=$?
  if [ $((rc & 2)) -ne 0 ] || [ $((rc & 1)) -ne 0 ]; then
    echo "cfn-lint: errors (exit $rc)" >&2
    exit 1
  fi
  if [ "$rc" -ne 0 ]; then
    echo "cfn-lint: warnings or informational findings (exit $rc)" >&2
    exit 1
  fi
  echo "cfn-lint $CFN_LINT_VERSION: no findings (exit 0)" >&2
}

if [ $# -gt 0 ]; then
  lint "$@"
  exit 0
fi

OUT="$(mktemp -d "${TMPDIR:-/tmp}/daemonless-lint.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

# Synthesizes by running the app directly with the context the CLI would pass, minus bundling
# (cfn-lint reads templates only; test/infra/synth.test.ts covers the CLI and the bundles).
synth() { # <dir> <context JSON>
  (cd "$ROOT" && env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
    CDK_OUTDIR="$1" CDK_CONTEXT_JSON="$2" npx tsx infra/app.ts >&2)
}

NO_BUNDLING='"aws:cdk:bundling-stacks": []'
synth "$OUT/default" "{ $NO_BUNDLING }"
synth "$OUT/full" "{ $NO_BUNDLING,
  \"daemonless:eksClusterName\": \"example\", \"daemonless:eksEndpoint\": \"https://EXAMPLE.gr7.eu-west-1.eks.amazonaws.com\",
  \"daemonless:eksCaData\": \"TFMwdExTMUNSVWRKVGc9PQ==\", \"daemonless:vpcId\": \"vpc-0123456789abcdef0\",
  \"daemonless:subnetIds\": [\"subnet-0123456789abcdef0\", \"subnet-0123456789abcdef1\"],
  \"daemonless:alarmEmail\": \"ops@example.com\", \"daemonless:reconcileReservedConcurrency\": 10 }"

lint "$OUT"/default/*.template.json "$OUT"/full/*.template.json
