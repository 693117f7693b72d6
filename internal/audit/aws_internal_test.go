package audit

import (
	"crypto/rand"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A JWT in any one string of the CloudTrail-shaped record is redacted, which fails if
// eachString (the fast path's scan) misses a field: every string is tried alone.
func TestAWSRecordRedaction(t *testing.T) {
	t.Parallel()
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	rec := &AWSRecord{}
	var setters []func(string)
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			v.SetString("clean")
			setters = append(setters, func(s string) { v.SetString(s) })
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				fill(v.Field(i))
			}
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			fill(v.Index(0))
		case reflect.Map:
			m := reflect.MakeMap(v.Type())
			m.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
			v.Set(m)
			setters = append(setters,
				func(s string) { m.Clear(); m.SetMapIndex(reflect.ValueOf(s), reflect.ValueOf("v")) },
				func(s string) { m.Clear(); m.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf(s)) })
		}
	}
	fill(reflect.ValueOf(rec).Elem())
	if len(setters) < 30 {
		t.Fatalf("only %d strings", len(setters))
	}
	for i, set := range setters {
		set(jwt)
		ev := Event{Time: time.Now(), DecisionID: NewDecisionID(time.Now(), rand.Reader), Dialect: "aws.sts", Method: "x", Outcome: "deny", AWS: rec}
		r, err := encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(r.Data), "c2lnbmF0dXJl") {
			t.Errorf("string %d: a JWT survived in the AWS record", i)
		}
		set("clean")
	}
}
