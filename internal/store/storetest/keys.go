package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/keylessdev/keyless/internal/store"
)

func key(kid string, activate time.Time) store.SigningKey {
	return store.SigningKey{
		KID:        kid,
		Alg:        "ES256",
		PrivateKey: []byte("pkcs8-der-of-" + kid),
		CreatedAt:  activate.Add(-time.Hour),
		ActivateAt: activate,
	}
}

func (s *suite) keyTests() map[string]func(*testing.T) {
	return map[string]func(*testing.T){
		"Empty": func(t *testing.T) {
			keys, err := s.fresh(t).SigningKeys(t.Context())
			if err != nil || len(keys) != 0 {
				t.Fatalf("SigningKeys on empty store = %v, %v; want none", keys, err)
			}
		},
		"PutListOrdered": func(t *testing.T) {
			st := s.fresh(t)
			ctx := t.Context()
			k1 := key("b", at(0))
			k2 := key("a", at(0)) // same activation: ordered by kid
			k3 := key("c", at(-1_000_000))
			k3.Alg, k3.RetireAt, k3.RemoveAt = "EdDSA", ptr(at(10)), ptr(at(20).In(time.FixedZone("X", 3600)))
			k1.Owner = "104729000000000000001" // a service account's key round-trips its owner
			for _, k := range []store.SigningKey{k1, k2, k3} {
				if err := st.PutSigningKey(ctx, k); err != nil {
					t.Fatalf("PutSigningKey(%s): %v", k.KID, err)
				}
			}
			got, err := st.SigningKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff([]store.SigningKey{k3, k2, k1}, got); d != "" {
				t.Errorf("SigningKeys (-want +got):\n%s", d)
			}
		},
		"PutDuplicate": func(t *testing.T) {
			st := s.fresh(t)
			k := key("dup", at(0))
			if err := st.PutSigningKey(t.Context(), k); err != nil {
				t.Fatal(err)
			}
			k2 := key("dup", at(5))
			k2.PrivateKey = []byte("other")
			if err := st.PutSigningKey(t.Context(), k2); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("duplicate kid: err = %v, want ErrConflict", err)
			}
			got, _ := st.SigningKeys(t.Context())
			if d := diff([]store.SigningKey{k}, got); d != "" {
				t.Errorf("duplicate changed the stored key (-want +got):\n%s", d)
			}
		},
		"PutInvalid": func(t *testing.T) {
			st := s.fresh(t)
			for name, mut := range map[string]func(*store.SigningKey){
				"no kid": func(k *store.SigningKey) { k.KID = "" },
				"no alg": func(k *store.SigningKey) { k.Alg = "" },
				"no key": func(k *store.SigningKey) { k.PrivateKey = nil },
			} {
				k := key("k", at(0))
				mut(&k)
				if err := st.PutSigningKey(t.Context(), k); !errors.Is(err, store.ErrInvalid) {
					t.Errorf("%s: err = %v, want ErrInvalid", name, err)
				}
			}
			if keys, _ := st.SigningKeys(t.Context()); len(keys) != 0 {
				t.Errorf("invalid keys were stored: %v", keys)
			}
		},
		"InputNotRetained": func(t *testing.T) {
			st := s.fresh(t)
			k := key("k", at(0))
			if err := st.PutSigningKey(t.Context(), k); err != nil {
				t.Fatal(err)
			}
			k.PrivateKey[0] ^= 0xff
			got, _ := st.SigningKeys(t.Context())
			if len(got) != 1 || string(got[0].PrivateKey) != "pkcs8-der-of-k" {
				t.Fatalf("stored key changed with the caller's slice: %q", got)
			}
		},
		"UpdateSchedule": func(t *testing.T) {
			st := s.fresh(t)
			ctx := t.Context()
			k := key("k", at(0))
			other := key("other", at(1))
			for _, kk := range []store.SigningKey{k, other} {
				if err := st.PutSigningKey(ctx, kk); err != nil {
					t.Fatal(err)
				}
			}
			k.ActivateAt, k.RetireAt, k.RemoveAt = at(2), ptr(at(100)), ptr(at(200))
			if err := st.UpdateSigningKey(ctx, k); err != nil {
				t.Fatalf("UpdateSigningKey: %v", err)
			}
			got, _ := st.SigningKeys(ctx)
			if d := diff([]store.SigningKey{other, k}, got); d != "" {
				t.Errorf("after update (-want +got):\n%s", d)
			}
			// Zero immutable fields mean "unchanged"; nil pointers clear.
			upd := store.SigningKey{KID: "k", ActivateAt: at(3)}
			if err := st.UpdateSigningKey(ctx, upd); err != nil {
				t.Fatalf("UpdateSigningKey with zero immutable fields: %v", err)
			}
			k.ActivateAt, k.RetireAt, k.RemoveAt = at(3), nil, nil
			got, _ = st.SigningKeys(ctx)
			if d := diff([]store.SigningKey{other, k}, got); d != "" {
				t.Errorf("after second update (-want +got):\n%s", d)
			}
		},
		"UpdateImmutable": func(t *testing.T) {
			st := s.fresh(t)
			k := key("k", at(0))
			if err := st.PutSigningKey(t.Context(), k); err != nil {
				t.Fatal(err)
			}
			for name, mut := range map[string]func(*store.SigningKey){
				"alg":        func(k *store.SigningKey) { k.Alg = "RS256" },
				"privateKey": func(k *store.SigningKey) { k.PrivateKey = []byte("swapped") },
				"createdAt":  func(k *store.SigningKey) { k.CreatedAt = k.CreatedAt.Add(time.Second) },
			} {
				u := k
				u.RetireAt = ptr(at(9))
				mut(&u)
				if err := st.UpdateSigningKey(t.Context(), u); !errors.Is(err, store.ErrConflict) {
					t.Errorf("changing %s: err = %v, want ErrConflict", name, err)
				}
			}
			got, _ := st.SigningKeys(t.Context())
			if d := diff([]store.SigningKey{k}, got); d != "" {
				t.Errorf("a refused update changed the key (-want +got):\n%s", d)
			}
		},
		"UpdateNotFound": func(t *testing.T) {
			st := s.fresh(t)
			if err := st.UpdateSigningKey(t.Context(), key("missing", at(0))); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if err := st.UpdateSigningKey(t.Context(), store.SigningKey{}); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("empty kid: err = %v, want ErrInvalid", err)
			}
		},
	}
}
