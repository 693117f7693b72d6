package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/keylessdev/keyless/internal/store"
)

// SigningKeys implements store.Store.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT kid, owner, alg, private_key, created_at, activate_at, retire_at, remove_at
		FROM signing_keys ORDER BY activate_at, kid`)
	if err != nil {
		return nil, s.wrap("signing keys", err)
	}
	defer rows.Close()
	var keys []store.SigningKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, s.wrap("signing keys", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("signing keys", err)
	}
	return keys, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(r scanner) (store.SigningKey, error) {
	var (
		k                  store.SigningKey
		created, activate  int64
		retire, removeTime sql.NullInt64
	)
	if err := r.Scan(&k.KID, &k.Owner, &k.Alg, &k.PrivateKey, &created, &activate, &retire, &removeTime); err != nil {
		return store.SigningKey{}, err
	}
	k.CreatedAt, k.ActivateAt = fromDB(created), fromDB(activate)
	k.RetireAt, k.RemoveAt = fromDBPtr(retire), fromDBPtr(removeTime)
	return k, nil
}

// PutSigningKey implements store.Store.
func (s *Store) PutSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.KID == "" || k.Alg == "" || len(k.PrivateKey) == 0 {
		return fmt.Errorf("%w: signing key needs kid, alg and private key", store.ErrInvalid)
	}
	return s.tx(ctx, "put signing key", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys
			(kid, owner, alg, private_key, created_at, activate_at, retire_at, remove_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			k.KID, k.Owner, k.Alg, k.PrivateKey, toDB(k.CreatedAt), toDB(k.ActivateAt), toDBPtr(k.RetireAt), toDBPtr(k.RemoveAt))
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: signing key %q already exists", store.ErrConflict, k.KID)
		}
		return s.wrap("put signing key", err)
	})
}

// UpdateSigningKey implements store.Store.
func (s *Store) UpdateSigningKey(ctx context.Context, k store.SigningKey) error {
	if k.KID == "" {
		return fmt.Errorf("%w: signing key needs a kid", store.ErrInvalid)
	}
	return s.tx(ctx, "update signing key", func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `SELECT kid, owner, alg, private_key, created_at, activate_at, retire_at, remove_at
			FROM signing_keys WHERE kid = ?`, k.KID)
		old, err := scanKey(row)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: signing key %q", store.ErrNotFound, k.KID)
		}
		if err != nil {
			return s.wrap("update signing key", err)
		}
		if (k.Owner != "" && k.Owner != old.Owner) ||
			(k.Alg != "" && k.Alg != old.Alg) ||
			(len(k.PrivateKey) != 0 && !bytes.Equal(k.PrivateKey, old.PrivateKey)) ||
			(!k.CreatedAt.IsZero() && toDB(k.CreatedAt) != toDB(old.CreatedAt)) {
			return fmt.Errorf("%w: signing key %q: owner, alg, private key and creation time are immutable", store.ErrConflict, k.KID)
		}
		_, err = tx.ExecContext(ctx, `UPDATE signing_keys SET activate_at = ?, retire_at = ?, remove_at = ? WHERE kid = ?`,
			toDB(k.ActivateAt), toDBPtr(k.RetireAt), toDBPtr(k.RemoveAt), k.KID)
		return s.wrap("update signing key", err)
	})
}
