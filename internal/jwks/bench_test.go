package jwks

import (
	"context"
	"testing"
)

func BenchmarkCacheHit(b *testing.B) {
	iss := newTestIssuer(b, true)
	iss.setJWKS(jwksOf("k1", "k2", "k3", "k4"))
	c := New(Options{RootCAs: iss.pool(), AllowPrivateNetworks: true})
	src := c.Source(iss.URL)
	ctx := context.Background()
	if _, err := src.KeySet(ctx, "k4"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ks, err := src.KeySet(ctx, "k4")
			if err != nil || ks == nil {
				b.Fatal(err)
			}
		}
	})
	if d, j := iss.discoveryHits.Load(), iss.jwksHits.Load(); d != 1 || j != 1 {
		b.Fatalf("hits %d/%d", d, j)
	}
}
