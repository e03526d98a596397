#!/usr/bin/env bash
# Installs what the tests need (Debian's Chromium and redis-server, the pinned npm packages) and
# checks that Chromium really starts. Idempotent; fast when everything is in place.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

die() { echo "tests/e2e/setup.sh: $*" >&2; exit 1; }

# Node: oidc-provider 9 needs URL.parse (Node >= 20.18).
command -v node >/dev/null || die "node is not installed"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 18) ? 0 : 1)' \
  || die "Node >= 20.18 is needed, found $(node --version)"

# Chromium from Debian (Playwright's own browser download cannot work here).
if [ ! -x "$CHROMIUM" ]; then
  [ "$CHROMIUM" = /usr/bin/chromium ] || die "CHROMIUM_PATH=$CHROMIUM is not executable"
  echo "tests/e2e/setup.sh: installing chromium with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -o Dpkg::Use-Pty=0 chromium >/dev/null
  [ -x "$CHROMIUM" ] || die "apt-get installed chromium but $CHROMIUM is missing"
fi

# Redis from Debian: the refresh lock shared by replicas (tests/it/replica_refresh.rs).
if ! command -v redis-server >/dev/null; then
  echo "tests/e2e/setup.sh: installing redis-server with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -o Dpkg::Use-Pty=0 redis-server >/dev/null
  command -v redis-server >/dev/null || die "apt-get installed redis-server but it is not on PATH"
fi
# Debian's package starts a system-wide server; the tests start their own on free ports.

# npm packages, exactly as locked; skipped when node_modules matches the lockfile.
stamp=node_modules/.e2e-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want" > "$stamp"
fi

# Chromium must really start: once on its own, once through playwright-core.
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
if ! dom="$(timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --user-data-dir="$profile" --dump-dom about:blank 2>"$profile/stderr")" \
    || [[ "$dom" != *"<html"* ]]; then
  tail -n 20 "$profile/stderr" >&2 || true
  die "Chromium ($CHROMIUM) does not start headless; see its output above"
fi
CHROMIUM="$CHROMIUM" timeout 60 node --input-type=module -e '
  import { chromium } from "playwright-core";
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  await browser.close();
' || die "playwright-core cannot drive $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
