package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/keylessdev/keyless/internal/jose"
)

// floorResult is the per-request cost of the cryptography a request cannot avoid (for
// the OIDC exchange: verifying the presented token and signing the one returned), one
// part per operation.
type floorResult struct {
	parts []floorPart
}

// floorPart is one timed floor operation.
type floorPart struct {
	name string
	d    time.Duration
}

// floorOp is a floor operation before it is timed.
type floorOp struct {
	name string
	op   func() error
}

func (f floorResult) total() time.Duration {
	var t time.Duration
	for _, p := range f.parts {
		t += p.d
	}
	return t
}

func (f floorResult) names() []string {
	out := make([]string, len(f.parts))
	for i, p := range f.parts {
		out[i] = p.name
	}
	return out
}

// String is "RS256 verify 30.1 µs + ES256 sign 28.0 µs = 58.1 µs".
func (f floorResult) String() string {
	s := make([]string, len(f.parts))
	for i, p := range f.parts {
		s[i] = p.name + " " + micros(p.d)
	}
	return strings.Join(s, " + ") + " = " + micros(f.total())
}

// timeFloor checks that every op succeeds once, then times each.
func timeFloor(ops []floorOp, iters int) (floorResult, error) {
	for _, o := range ops {
		if err := o.op(); err != nil {
			return floorResult{}, fmt.Errorf("floor: %s: %w", o.name, err)
		}
	}
	var r floorResult
	for _, o := range ops {
		d, err := timeOp(o.op, iters)
		if err != nil {
			return floorResult{}, fmt.Errorf("floor: %s: %w", o.name, err)
		}
		r.parts = append(r.parts, floorPart{o.name, d})
	}
	return r, nil
}

// jws is a compact JWS split for the floor.
type jws struct {
	alg, kid     string
	signingInput []byte
	sig          []byte
}

func splitJWS(tok string) (jws, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return jws{}, errors.New("not a compact JWS")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return jws{}, fmt.Errorf("header: %w", err)
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(hb, &h); err != nil {
		return jws{}, fmt.Errorf("header: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return jws{}, fmt.Errorf("signature: %w", err)
	}
	return jws{alg: h.Alg, kid: h.Kid, signingInput: []byte(parts[0] + "." + parts[1]), sig: sig}, nil
}

// verifier returns a stdlib verification of t with its key from keys.
func verifier(t jws, keys *jose.KeySet) (func() error, error) {
	found := keys.Find(t.kid)
	if len(found) != 1 {
		return nil, fmt.Errorf("%d keys with kid %q", len(found), t.kid)
	}
	switch pub := found[0].Public.(type) {
	case *rsa.PublicKey:
		if t.alg != "RS256" {
			break
		}
		return func() error {
			h := sha256.Sum256(t.signingInput)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], t.sig)
		}, nil
	case *ecdsa.PublicKey:
		if t.alg != "ES256" || pub.Curve != elliptic.P256() || len(t.sig) != 64 {
			break
		}
		r, s := new(big.Int).SetBytes(t.sig[:32]), new(big.Int).SetBytes(t.sig[32:])
		return func() error {
			h := sha256.Sum256(t.signingInput)
			if !ecdsa.Verify(pub, h[:], r, s) {
				return errors.New("ES256 signature invalid")
			}
			return nil
		}, nil
	case ed25519.PublicKey:
		if t.alg != "EdDSA" {
			break
		}
		return func() error {
			if !ed25519.Verify(pub, t.signingInput, t.sig) {
				return errors.New("EdDSA signature invalid")
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("no stdlib verifier for alg %q with key %T", t.alg, found[0].Public)
}

// signer returns a stdlib signature of t's signing input with a fresh key of t's alg.
func signer(t jws) (func() error, error) {
	switch t.alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		return func() error {
			h := sha256.Sum256(t.signingInput)
			_, _, err := ecdsa.Sign(rand.Reader, k, h[:])
			return err
		}, nil
	case "RS256":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		return func() error {
			h := sha256.Sum256(t.signingInput)
			_, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
			return err
		}, nil
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return func() error { _ = ed25519.Sign(k, t.signingInput); return nil }, nil
	}
	return nil, fmt.Errorf("no stdlib signer for alg %q", t.alg)
}

// oidcFloorOps are verifying presented (a real request's token, checked against keys)
// and signing minted's signing input (a real response's token).
func oidcFloorOps(presented string, keys *jose.KeySet, minted string) ([]floorOp, error) {
	verify, err := verifyFloorOp(presented, keys)
	if err != nil {
		return nil, err
	}
	sign, err := mintFloorOp(minted)
	if err != nil {
		return nil, err
	}
	return []floorOp{verify, sign}, nil
}

// verifyFloorOp verifies presented with its key from keys; presented must verify.
func verifyFloorOp(presented string, keys *jose.KeySet) (floorOp, error) {
	p, err := splitJWS(presented)
	if err != nil {
		return floorOp{}, fmt.Errorf("floor: presented token: %w", err)
	}
	verify, err := verifier(p, keys)
	if err != nil {
		return floorOp{}, fmt.Errorf("floor: %w", err)
	}
	if err := verify(); err != nil {
		return floorOp{}, fmt.Errorf("floor: the presented token does not verify: %w", err)
	}
	return floorOp{p.alg + " verify", verify}, nil
}

// mintFloorOp signs minted's signing input with a fresh key of its alg.
func mintFloorOp(minted string) (floorOp, error) {
	m, err := splitJWS(minted)
	if err != nil {
		return floorOp{}, fmt.Errorf("floor: minted token: %w", err)
	}
	sign, err := signer(m)
	if err != nil {
		return floorOp{}, fmt.Errorf("floor: %w", err)
	}
	return floorOp{m.alg + " sign", sign}, nil
}

// measureFloor times the OIDC floor (oidcFloorOps), each operation iters times.
func measureFloor(presented string, keys *jose.KeySet, minted string, iters int) (floorResult, error) {
	ops, err := oidcFloorOps(presented, keys, minted)
	if err != nil {
		return floorResult{}, err
	}
	return timeFloor(ops, iters)
}

// timeOp runs op iters times in five rounds and returns the median per-op time, so one
// disturbed round does not move the floor. The time is the thread's CPU time where the
// OS reports it (Linux), so that other processes competing for the CPU do not inflate
// the floor; wall time otherwise.
func timeOp(op func() error, iters int) (time.Duration, error) {
	const rounds = 5
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	clock := func() time.Duration {
		if d, ok := threadCPU(); ok {
			return d
		}
		return time.Duration(time.Now().UnixNano())
	}
	per := max(iters/rounds, 1)
	var got []time.Duration
	for range rounds {
		start := clock()
		for range per {
			if err := op(); err != nil {
				return 0, err
			}
		}
		got = append(got, (clock()-start)/time.Duration(per))
	}
	slices.Sort(got)
	return got[rounds/2], nil
}
