package celpolicy

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decodeClaims decodes JSON the way the credential verifier does (UseNumber).
func decodeClaims(t testing.TB, data string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode claims: %v", err)
	}
	return m
}

// fixtureClaims loads testdata/NAME's "claims" object.
func fixtureClaims(t testing.TB, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Claims json.RawMessage `json:"claims"`
	}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return decodeClaims(t, string(doc.Claims))
}

func mustMapping(t testing.TB, exprs map[string]string) *Mapping {
	t.Helper()
	m, errs := CompileMapping(exprs, Options{})
	if len(errs) > 0 {
		t.Fatalf("CompileMapping: %v", errs)
	}
	return m
}

func mustCondition(t testing.TB, expr string) *Condition {
	t.Helper()
	c, err := CompileCondition(expr, Options{})
	if err != nil {
		t.Fatalf("CompileCondition(%q): %v", expr, err)
	}
	return c
}

// mapOne evaluates one custom attribute expression over claims.
func mapOne(t testing.TB, expr string, claims map[string]any) ([]string, error) {
	t.Helper()
	m := mustMapping(t, map[string]string{"google.subject": "'s'", "attribute.x": expr})
	attrs, _, err := m.Evaluate(claims)
	if err != nil {
		return nil, err
	}
	return attrs.Custom["x"], nil
}
