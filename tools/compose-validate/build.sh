#!/usr/bin/env bash
# Builds compose-validate (compose-go v2, pinned in go.mod/go.sum) into tools/compose-validate/bin/.
# Idempotent: rebuilds only when the sources or pins change. Prints the binary's path on stdout.
# Needs Go >= 1.24 and the Go module proxy; go.sum pins every module, so no checksum-database lookups.
set -euo pipefail
cd "$(dirname "$0")"

out="${COMPOSE_VALIDATE_BIN:-$PWD/bin/compose-validate}"
stamp="$out.sha256"
want=$(cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)

if [ ! -x "$out" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    command -v go >/dev/null 2>&1 || { echo "compose-validate: 'go' not found (install Go >= 1.24)" >&2; exit 3; }
    echo "compose-validate: building with $(go version)" >&2
    mkdir -p "$(dirname "$out")"
    GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -o "$out.tmp" .
    mv "$out.tmp" "$out"
    echo "$want" > "$stamp"
fi
echo "$out"
