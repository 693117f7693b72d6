package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/keylessdev/keyless/internal/store"
)

// LatestConfig implements store.Store.
func (s *Store) LatestConfig(ctx context.Context) (store.ConfigDoc, error) {
	if err := s.check(); err != nil {
		return store.ConfigDoc{}, err
	}
	var (
		d       store.ConfigDoc
		updated int64
	)
	err := s.reader.QueryRowContext(ctx, `SELECT version, doc, updated_at FROM config_docs ORDER BY version DESC LIMIT 1`).
		Scan(&d.Version, &d.Doc, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ConfigDoc{}, fmt.Errorf("%w: no config document", store.ErrNotFound)
	}
	if err != nil {
		return store.ConfigDoc{}, s.wrap("latest config", err)
	}
	d.UpdatedAt = fromDB(updated)
	return d, nil
}

// PutConfig implements store.Store.
func (s *Store) PutConfig(ctx context.Context, doc []byte, expectVersion int64) (store.ConfigDoc, error) {
	if len(doc) == 0 || expectVersion < 0 {
		return store.ConfigDoc{}, fmt.Errorf("%w: config needs a non-empty document and a version >= 0", store.ErrInvalid)
	}
	d := store.ConfigDoc{
		Version:   expectVersion + 1,
		Doc:       append([]byte(nil), doc...),
		UpdatedAt: fromDB(toDB(s.now())),
	}
	err := s.tx(ctx, "put config", func(tx *sql.Tx) error {
		var latest int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM config_docs`).Scan(&latest); err != nil {
			return s.wrap("put config", err)
		}
		if latest != expectVersion {
			return fmt.Errorf("%w: config version is %d, expected %d", store.ErrConflict, latest, expectVersion)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO config_docs (version, doc, updated_at) VALUES (?, ?, ?)`,
			d.Version, d.Doc, toDB(d.UpdatedAt))
		return s.wrap("put config", err)
	})
	if err != nil {
		return store.ConfigDoc{}, err
	}
	return d, nil
}
