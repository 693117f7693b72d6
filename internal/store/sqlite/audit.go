package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/keylessdev/keyless/internal/store"
)

// AppendAudit implements store.Store.
func (s *Store) AppendAudit(ctx context.Context, recs []store.AuditRecord) error {
	if len(recs) == 0 {
		return s.check()
	}
	for i := range recs {
		if recs[i].ID == "" {
			return fmt.Errorf("%w: audit record %d has no id", store.ErrInvalid, i)
		}
	}
	return s.tx(ctx, "append audit", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_events
			(id, time, dialect, method, outcome, reason, data) VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return s.wrap("append audit", err)
		}
		defer stmt.Close()
		for _, r := range recs {
			data := r.Data
			if data == nil {
				data = []byte{} // NOT NULL column
			}
			_, err := stmt.ExecContext(ctx, r.ID, toDB(r.Time), r.Dialect, r.Method, r.Outcome, r.Reason, data)
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: audit record %q already exists", store.ErrConflict, r.ID)
			}
			if err != nil {
				return s.wrap("append audit", err)
			}
		}
		return nil
	})
}

const auditColumns = `id, time, dialect, method, outcome, reason, data`

func scanAudit(r scanner) (store.AuditRecord, error) {
	var (
		rec store.AuditRecord
		t   int64
	)
	if err := r.Scan(&rec.ID, &t, &rec.Dialect, &rec.Method, &rec.Outcome, &rec.Reason, &rec.Data); err != nil {
		return store.AuditRecord{}, err
	}
	rec.Time = fromDB(t)
	return rec, nil
}

// AuditByID implements store.Store.
func (s *Store) AuditByID(ctx context.Context, id string) (store.AuditRecord, error) {
	if err := s.check(); err != nil {
		return store.AuditRecord{}, err
	}
	rec, err := scanAudit(s.reader.QueryRowContext(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuditRecord{}, fmt.Errorf("%w: audit record %q", store.ErrNotFound, id)
	}
	if err != nil {
		return store.AuditRecord{}, s.wrap("audit by id", err)
	}
	return rec, nil
}

// QueryAudit implements store.Store.
func (s *Store) QueryAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	limit, err := effectiveLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	var (
		where []string
		args  []any
	)
	if !q.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, toDB(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "time < ?"), append(args, toDB(q.Until))
	}
	if q.Outcome != "" {
		where, args = append(where, "outcome = ?"), append(args, q.Outcome)
	}
	if q.Dialect != "" {
		where, args = append(where, "dialect = ?"), append(args, q.Dialect)
	}
	// Read the cursor and the page in one transaction so both see the same
	// snapshot.
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap("query audit", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	if q.AfterID != "" {
		var after int64
		err := tx.QueryRowContext(ctx, `SELECT time FROM audit_events WHERE id = ?`, q.AfterID).Scan(&after)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: cursor audit record %q", store.ErrNotFound, q.AfterID)
		}
		if err != nil {
			return nil, s.wrap("query audit", err)
		}
		where, args = append(where, "(time, id) > (?, ?)"), append(args, after, q.AfterID)
	}
	query := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY time, id LIMIT ?`
	args = append(args, limit)
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.wrap("query audit", err)
	}
	defer rows.Close()
	recs := make([]store.AuditRecord, 0, min(limit, 64))
	for rows.Next() {
		rec, err := scanAudit(rows)
		if err != nil {
			return nil, s.wrap("query audit", err)
		}
		recs = append(recs, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("query audit", err)
	}
	return recs, nil
}

func effectiveLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("%w: negative audit query limit %d", store.ErrInvalid, n)
	case n == 0:
		return store.DefaultAuditLimit, nil
	case n > store.MaxAuditLimit:
		return store.MaxAuditLimit, nil
	}
	return n, nil
}
