#!/bin/sh
# Runs a command with the project's toolchain: Node 24 LTS first on PATH and node_modules in step with
# package-lock.json. Every npm script goes through here, so a fresh machine (whose Node may be older) needs no
# other step. Node 24 comes from the npm registry's per-platform `node-<os>-<arch>` package (what the `node@24`
# package itself installs) into the shared cache, never over the system's Node.
set -eu

NODE_VERSION=24.21.0
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cache=${CPL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cloud-provider-localstack}

say() { printf '[toolchain] %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 24 ]; then
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) say "unsupported OS $(uname -s): install Node 24 yourself"; exit 1 ;; esac
  case "$(uname -m)" in x86_64|amd64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) say "unsupported CPU $(uname -m): install Node 24 yourself"; exit 1 ;; esac
  prefix="$cache/node-v$NODE_VERSION-$os-$arch"
  bin="$prefix/node_modules/node-$os-$arch/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null 2>&1 || { say "npm is needed once to fetch Node $NODE_VERSION; install any Node.js with npm"; exit 1; }
    say "system Node is $(node --version 2>/dev/null || echo absent); installing Node $NODE_VERSION into $prefix"
    mkdir -p "$prefix"
    npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$prefix" "node-$os-$arch@$NODE_VERSION" >&2
  fi
  PATH="$bin:$PATH"
  export PATH
fi

# npm ci whenever package-lock.json differs from the one node_modules was installed from.
# Two npm scripts started together (`npm run up` and `npm test`) must not both run npm ci into one folder: the
# second waits for the first's lock (a folder, which mkdir makes atomically), then finds the stamp fresh.
stamp="$root/node_modules/.cpl-lock-hash"
lock="$root/.npm-ci.lock"
want=$(cksum < "$root/package-lock.json")
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  waited=0
  until mkdir "$lock" 2>/dev/null; do
    # A lock older than 10 minutes was left by a killed install.
    if [ "$waited" -ge 600 ]; then rmdir "$lock" 2>/dev/null || true; waited=0; fi
    sleep 1; waited=$((waited + 1))
  done
  trap 'rmdir "$lock" 2>/dev/null || true' EXIT
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing node_modules (npm ci)"
    rm -f "$stamp"
    (cd "$root" && npm ci --no-audit --no-fund >&2)
    printf '%s' "$want" > "$stamp"
  fi
  rmdir "$lock" 2>/dev/null || true
  trap - EXIT
fi

cd "$root"
exec "$@"
