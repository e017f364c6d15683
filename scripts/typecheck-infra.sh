#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2317 # JS in single quotes; cleanup runs from a trap
# Type-checks sst.config.ts and infra/*.ts against SST's own platform types,
# offline. `npm run typecheck:infra` runs it; so does CI (via `npm run check`).
#
#   bash scripts/typecheck-infra.sh          check the repo's sst.config.ts + infra/
#   bash scripts/typecheck-infra.sh DIR      check DIR/sst.config.ts + DIR/infra/ instead;
#                                            DIR/node_modules and DIR/.sst must be symlinks
#                                            to the repo's (test/infra-typecheck.test.ts)
#   bash scripts/typecheck-infra.sh --platform   only write .sst/platform (scripts/plan-infra.ts
#                                            runs SST's component source from there)
#
# How. `sst install` writes .sst/platform: SST's platform source (components,
# their argument types), embedded in the sst binary, plus config.d.ts, which
# declares the globals sst.config.ts uses ($config, sst, aws, $util...). Left
# alone it would also download pulumi and bun, ask the npm registry about the
# provider packages and run `bun install` (about 400 MB) in .sst/platform.
# Here none of that leaves the machine:
#   - SST_SKIP_DEPENDENCY_CHECK=1: no pulumi or bun download (install needs neither);
#   - NPM_REGISTRY: a throwaway loopback server that answers sst's provider
#     lookups from node_modules/ (npm ci installed the provider packages as root
#     devDependencies, pinned to the versions SST pins);
#   - SST_BUN_PATH: a no-op instead of `bun install`; the platform's imports
#     resolve from the root node_modules;
#   - XDG_CONFIG_HOME and TMPDIR: a temp dir, so sst writes nothing under $HOME
#     and leaves no log in /tmp.
# The install runs once per sst version / sst.config.ts content (stamp file);
# tsc runs incrementally (build info in .sst/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
platform_only=""
if [[ "${1:-}" == "--platform" ]]; then
  platform_only=1
  shift
fi
target="$(cd "${1:-$root}" && pwd)"
cd "$root"

die() {
  echo "typecheck-infra: $*" >&2
  exit 2
}

# The provider packages must be the versions this SST release pins in
# .sst/platform/package.json, or the types checked are not SST's.
check_pins() {
  node -e '
    const fs = require("node:fs");
    const platform = JSON.parse(fs.readFileSync(".sst/platform/package.json", "utf8"));
    const sst = fs.readFileSync(".sst/platform/version", "utf8").trim();
    const pins = { ...platform.devDependencies, ...platform.dependencies };
    const wanted = Object.entries(pins).filter(([name]) => /^@pulumi(verse)?\//.test(name));
    // @types/bun only re-exports bun-types; @types/archiver types platform code; archiver makes
    // the zips of scripts/bundle.ts and scripts/plan-infra.ts as SST makes them.
    const extra = [
      ["@types/bun", "bun-types"],
      ["@types/archiver", "@types/archiver"],
      ["archiver", "archiver"],
    ];
    for (const [from, to] of extra) {
      if (pins[from]) wanted.push([to, pins[from]]);
    }
    const clean = (v) => String(v).replace(/^v/, "");
    const wrong = [];
    for (const [name, version] of wanted) {
      let installed = "(missing)";
      try {
        installed = JSON.parse(fs.readFileSync(`node_modules/${name}/package.json`, "utf8")).version;
      } catch {}
      if (clean(installed) !== clean(version)) {
        wrong.push(`  "${name}": "${clean(version)}" (installed: ${installed})`);
      }
    }
    if (wrong.length) {
      console.error(
        `typecheck-infra: SST ${sst} needs these root devDependencies, pinned:\n` +
          wrong.join("\n"),
      );
      process.exit(2);
    }
  '
}

[[ -f node_modules/sst/package.json ]] || die "node_modules/sst is missing: run npm ci first"
[[ -f "$target/sst.config.ts" ]] || die "no sst.config.ts in $target"
[[ -f "$target/infra/tsconfig.json" ]] || die "no infra/tsconfig.json in $target"

mkdir -p .sst
stamp_file=.sst/typecheck-infra.stamp

# One run at a time per checkout (vitest and `npm run check` may overlap).
if command -v flock >/dev/null 2>&1; then
  exec 9>.sst/typecheck-infra.lock
  flock 9
fi

# What the generated platform types depend on: the sst version and
# sst.config.ts (its app() chooses the providers).
stamp="$(node -e '
  const fs = require("node:fs");
  const crypto = require("node:crypto");
  const sst = JSON.parse(fs.readFileSync("node_modules/sst/package.json", "utf8")).version;
  const config = crypto.createHash("sha256").update(fs.readFileSync("sst.config.ts")).digest("hex");
  process.stdout.write(`sst ${sst}\nsst.config.ts ${config}\n`);
')"
sst_version="$(sed -n 's/^sst //p' <<<"$stamp")"

if [[ -f .sst/platform/config.d.ts && -f "$stamp_file" ]] &&
  [[ "$(cat .sst/platform/version 2>/dev/null)" == "$sst_version" ]] &&
  [[ "$(cat "$stamp_file")" == "$stamp" ]]; then
  echo "typecheck-infra: SST $sst_version platform types are up to date"
else
  echo "typecheck-infra: generating SST $sst_version platform types (offline sst install)"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/typecheck-infra.XXXXXX")"
  registry_pid=""
  cleanup() {
    if [[ -n "$registry_pid" ]]; then kill "$registry_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  printf '#!/bin/sh\n# stands in for `bun install` in .sst/platform\nexit 0\n' >"$tmp/bun"
  chmod +x "$tmp/bun"

  # GET /<package>/<version|latest> -> {name, version, pulumi} read from
  # node_modules/<package>/package.json; 404 for anything not installed.
  cat >"$tmp/registry.cjs" <<'JS'
const http = require("node:http");
const fs = require("node:fs");
const path = require("node:path");
const root = process.argv[2];
const NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;
const clean = (v) => String(v).replace(/^v/, "");
const server = http.createServer((req, res) => {
  let url = "";
  try {
    url = decodeURIComponent((req.url || "").split("?")[0]).replace(/^\/+/, "");
  } catch {}
  const at = url.lastIndexOf("/");
  const name = url.slice(0, at);
  const version = url.slice(at + 1);
  let pkg;
  if (req.method === "GET" && NAME.test(name)) {
    try {
      pkg = JSON.parse(fs.readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8"));
    } catch {}
  }
  if (!pkg || !pkg.pulumi || (version !== "latest" && clean(version) !== clean(pkg.version))) {
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":"Not found"}');
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ name: pkg.name, version: clean(pkg.version), pulumi: pkg.pulumi }));
});
server.listen(0, "127.0.0.1", () => fs.writeFileSync(process.argv[3], String(server.address().port)));
// Never outlive a killed script for long.
setTimeout(() => process.exit(0), 120_000).unref();
JS
  node "$tmp/registry.cjs" "$root" "$tmp/port" 9>&- &
  registry_pid=$!
  for _ in $(seq 1 100); do
    [[ -s "$tmp/port" ]] && break
    kill -0 "$registry_pid" 2>/dev/null || die "the local registry did not start"
    sleep 0.05
  done
  [[ -s "$tmp/port" ]] || die "the local registry did not start"

  if ! env \
    XDG_CONFIG_HOME="$tmp/config" \
    TMPDIR="$tmp" \
    SST_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1 \
    SST_SKIP_DEPENDENCY_CHECK=1 \
    SST_BUN_PATH="$tmp/bun" \
    NPM_REGISTRY="http://127.0.0.1:$(cat "$tmp/port")" \
    SST_STAGE=typecheck \
    node_modules/.bin/sst install >"$tmp/sst-install.log" 2>&1; then
    cat "$tmp/sst-install.log" >&2
    if [[ -f .sst/platform/package.json ]]; then check_pins; fi
    die "sst install failed (a provider in sst.config.ts that is not a root devDependency?)"
  fi
  [[ -f .sst/platform/config.d.ts ]] || die "sst install wrote no .sst/platform/config.d.ts"

  # No .sst/platform/node_modules is left behind, so a later real `sst deploy`
  # or `sst dev` (with network) still runs its own install first.
  printf '%s\n' "$stamp" >"$stamp_file"
fi

check_pins
if [[ -n "$platform_only" ]]; then exit 0; fi

if [[ "$target" == "$root" ]]; then
  buildinfo="$root/.sst/typecheck-infra.tsbuildinfo"
else
  buildinfo="$target/.typecheck-infra.tsbuildinfo"
fi

echo "typecheck-infra: tsc -p ${target}/infra/tsconfig.json"
status=0
node_modules/.bin/tsc -p "$target/infra/tsconfig.json" --pretty false \
  --incremental --tsBuildInfoFile "$buildinfo" || status=$?
if [[ "$status" -eq 0 ]]; then echo "typecheck-infra: ok"; fi
exit "$status"
