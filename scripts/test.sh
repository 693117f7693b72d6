#!/usr/bin/env bash
# The project's full test run: vet, unit + integration + real-client interop tests with
# the race detector, then a short run of every fuzz target. README and CI both run this.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-2000x}"  # a count, not a duration: a duration fails when gathering the cached corpus outlasts it

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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "-- $pkg $target"
    # Minimizing newly interesting inputs may not outlive -fuzztime: Go then reports
    # "context deadline exceeded" with no failing input. Retry that once; a real
    # failure writes a failing input and fails at once.
    for attempt in 1 2; do
      if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=2s "$pkg" >"$log" 2>&1; then
        break
      fi
      if [ "$attempt" = 1 ] && grep -q "context deadline exceeded" "$log" && ! grep -q "Failing input written" "$log"; then
        echo "   (fuzz engine deadline, no failing input: retrying)"
        continue
      fi
      cat "$log"; exit 1
    done
  done
done
echo "all checks passed"
