package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// sealedColumn is a column whose values are sealed with the store's Sealer.
type sealedColumn struct {
	table, column string
	what          string // for messages, as seal and open name it
}

// sealedColumns are every sealed column of the schema: key rotation
// re-seals them all. A test fails when a BLOB column is in neither this
// list nor plainBlobColumns.
var sealedColumns = []sealedColumn{
	{"tenants", "crm_private_key", "CRM private key"},
	{"tenants", "crm_client_secret", "CRM client secret"},
	{"tenants", "crm_sso_client_secret", "CRM SSO client secret"},
	{"crm_tokens", "refresh_token", "CRM refresh token"},
}

// plainBlobColumns are the BLOB columns that hold no secret.
var plainBlobColumns = map[string]bool{
	"events.data":    true, // the event's JSON payload
	"outbox.payload": true, // the CRM log to deliver (JSON)
}

// SealedCount is how many sealed values of one column are sealed with one key.
type SealedCount struct {
	What  string // "CRM client secret"
	KeyID string // as keyID answered
	N     int
}

// SealedCounts counts the sealed values of every sealed column by the key
// that sealed them, which keyID reads from a sealed value (the keyring's
// secret.KeyID). A value keyID cannot read is counted under "unreadable".
func (s *DB) SealedCounts(ctx context.Context, keyID func(sealed []byte) (string, error)) (_ []SealedCount, err error) {
	defer wrap(&err, "count sealed values")
	var out []SealedCount
	for _, c := range sealedColumns {
		counts := map[string]int{}
		var order []string
		err := s.eachSealed(ctx, s.db, c, func(_ int64, v []byte) error {
			id, err := keyID(v)
			if err != nil {
				id = "unreadable"
			}
			if counts[id] == 0 {
				order = append(order, id)
			}
			counts[id]++
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, id := range order {
			out = append(out, SealedCount{What: c.what, KeyID: id, N: counts[id]})
		}
	}
	return out, nil
}

// Reseal opens every sealed value with the store's Sealer and seals it
// again, so that it is sealed with the Sealer's active key (the first of a
// keyring). It runs in one write transaction: if a value does not open
// (its key is not in the keyring, or it was tampered with) nothing is
// changed and the error names the column and the row. It returns how many
// values were re-sealed.
func (s *DB) Reseal(ctx context.Context) (n int, err error) {
	defer wrap(&err, "re-seal secrets")
	if s.sealer == nil {
		return 0, fmt.Errorf("no sealer configured")
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range sealedColumns {
			type row struct {
				rowid int64
				v     []byte
			}
			var rows []row
			if err := s.eachSealed(ctx, tx, c, func(rowid int64, v []byte) error {
				rows = append(rows, row{rowid, v})
				return nil
			}); err != nil {
				return err
			}
			for _, r := range rows {
				plain, err := s.sealer.Open(r.v)
				if err != nil {
					return fmt.Errorf("open the %s of %s row %d: %w", c.what, c.table, r.rowid, err)
				}
				sealed, err := s.sealer.Seal(plain)
				if err != nil {
					return fmt.Errorf("seal the %s: %w", c.what, err)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE `+c.table+` SET `+c.column+` = ? WHERE rowid = ?`, sealed, r.rowid); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// eachSealed calls fn with every non-empty value of column c.
func (s *DB) eachSealed(ctx context.Context, q querier, c sealedColumn, fn func(rowid int64, v []byte) error) error {
	rows, err := q.QueryContext(ctx, `SELECT rowid, `+c.column+` FROM `+c.table+` WHERE `+c.column+` IS NOT NULL AND length(`+c.column+`) > 0 ORDER BY rowid`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var v []byte
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		if err := fn(id, v); err != nil {
			return err
		}
	}
	return rows.Err()
}
