#!/usr/bin/env bash
# The project's full test run: vet, unit + integration + real-client interop tests with
# the race detector, then a short run of every fuzz target. README and CI both run this.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-4s}"

if [ -f test/interop/node/package-lock.json ] && [ ! -d test/interop/node/node_modules ]; then
  (cd test/interop/node && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

echo "== fuzz (each target for $FUZZTIME)"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "-- $pkg $target"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg" >/tmp/keyless-fuzz.log 2>&1 || { cat /tmp/keyless-fuzz.log; exit 1; }
  done
done
echo "all checks passed"
