package storetest

import (
	"context"
	"sync/atomic"

	"github.com/keylessdev/keyless/internal/store"
)

// Faulty wraps a Store and injects failures or delays. Each hook, when set,
// runs before the wrapped call; a non-nil error it returns is returned
// instead of calling the wrapped Store. Hooks may be called concurrently.
// Set the hooks before the first call; use a *Faulty.
//
//	f := &storetest.Faulty{Store: s, FailAppend: func(context.Context, []store.AuditRecord) error {
//		return errors.New("disk full")
//	}}
type Faulty struct {
	store.Store

	// FailAppend runs before AppendAudit; it may also sleep to make a slow store.
	FailAppend func(ctx context.Context, recs []store.AuditRecord) error
	// FailRead runs before SigningKeys, AuditByID, QueryAudit and LatestConfig.
	FailRead func(ctx context.Context) error
	// FailWrite runs before PutSigningKey, UpdateSigningKey and PutConfig.
	FailWrite func(ctx context.Context) error

	appendCalls atomic.Int64
	appended    atomic.Int64
}

// AppendCalls reports how many times AppendAudit was called (failed ones too).
func (f *Faulty) AppendCalls() int64 { return f.appendCalls.Load() }

// Appended reports how many records the wrapped Store accepted.
func (f *Faulty) Appended() int64 { return f.appended.Load() }

// AppendAudit implements store.Store.
func (f *Faulty) AppendAudit(ctx context.Context, recs []store.AuditRecord) error {
	f.appendCalls.Add(1)
	if f.FailAppend != nil {
		if err := f.FailAppend(ctx, recs); err != nil {
			return err
		}
	}
	if err := f.Store.AppendAudit(ctx, recs); err != nil {
		return err
	}
	f.appended.Add(int64(len(recs)))
	return nil
}

func (f *Faulty) read(ctx context.Context) error {
	if f.FailRead == nil {
		return nil
	}
	return f.FailRead(ctx)
}

func (f *Faulty) write(ctx context.Context) error {
	if f.FailWrite == nil {
		return nil
	}
	return f.FailWrite(ctx)
}

// SigningKeys implements store.Store.
func (f *Faulty) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	if err := f.read(ctx); err != nil {
		return nil, err
	}
	return f.Store.SigningKeys(ctx)
}

// AuditByID implements store.Store.
func (f *Faulty) AuditByID(ctx context.Context, id string) (store.AuditRecord, error) {
	if err := f.read(ctx); err != nil {
		return store.AuditRecord{}, err
	}
	return f.Store.AuditByID(ctx, id)
}

// QueryAudit implements store.Store.
func (f *Faulty) QueryAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	if err := f.read(ctx); err != nil {
		return nil, err
	}
	return f.Store.QueryAudit(ctx, q)
}

// LatestConfig implements store.Store.
func (f *Faulty) LatestConfig(ctx context.Context) (store.ConfigDoc, error) {
	if err := f.read(ctx); err != nil {
		return store.ConfigDoc{}, err
	}
	return f.Store.LatestConfig(ctx)
}

// PutSigningKey implements store.Store.
func (f *Faulty) PutSigningKey(ctx context.Context, k store.SigningKey) error {
	if err := f.write(ctx); err != nil {
		return err
	}
	return f.Store.PutSigningKey(ctx, k)
}

// UpdateSigningKey implements store.Store.
func (f *Faulty) UpdateSigningKey(ctx context.Context, k store.SigningKey) error {
	if err := f.write(ctx); err != nil {
		return err
	}
	return f.Store.UpdateSigningKey(ctx, k)
}

// PutConfig implements store.Store.
func (f *Faulty) PutConfig(ctx context.Context, doc []byte, expectVersion int64) (store.ConfigDoc, error) {
	if err := f.write(ctx); err != nil {
		return store.ConfigDoc{}, err
	}
	return f.Store.PutConfig(ctx, doc, expectVersion)
}
