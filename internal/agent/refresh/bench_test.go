package refresh

import (
	"context"
	"testing"
	"time"
)

func benchCache(b *testing.B) *Cache {
	c, err := New(Options{
		Name: "bench",
		Fetch: func(context.Context) (Credential, error) {
			return Credential{Value: "token", Expiry: time.Now().Add(time.Hour)}, nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkGetCached measures the hot path: a usable credential, many concurrent readers.
func BenchmarkGetCached(b *testing.B) {
	c := benchCache(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetCachedDuringRefresh: readers while a fetch is blocked in flight.
func BenchmarkGetCachedDuringRefresh(b *testing.B) {
	release := make(chan struct{})
	first := true
	c, err := New(Options{
		Name: "bench",
		Fetch: func(ctx context.Context) (Credential, error) {
			if !first {
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			first = false
			return Credential{Value: "token", Expiry: time.Now().Add(time.Hour)}, nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Refresh(context.Background()) }()
	for !c.Status().InFlight {
		time.Sleep(10 * time.Microsecond)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Get(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	close(release)
	<-done
}

func BenchmarkGroupGetCached(b *testing.B) {
	g := NewGroup(GroupOptions{
		NewFetch: func(key string) FetchFunc {
			return func(context.Context) (Credential, error) {
				return Credential{Value: key, Expiry: time.Now().Add(time.Hour)}, nil
			}
		},
	})
	keys := []string{"https://a.example", "https://b.example", "https://c.example", "https://d.example"}
	ctx := context.Background()
	for _, k := range keys {
		if _, err := g.Get(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := g.Get(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
