package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Device is the last known record of a device (for listings while its
// backend is down, and after a restart).
type Device struct {
	ID        string            `json:"device_id"`
	Backend   string            `json:"backend"`
	Tenant    string            `json:"tenant,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	State     string            `json:"state"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// UpsertDevice stores d, replacing the record with its ID. UpdatedAt
// defaults to now.
func (s *Store) UpsertDevice(ctx context.Context, d Device) error {
	what := "upsert device " + d.ID
	if d.ID == "" {
		return fmt.Errorf("upsert device: %w: empty id", ErrInvalid)
	}
	labels, err := json.Marshal(d.Labels)
	if err != nil {
		return fmt.Errorf("%s: labels: %w", what, err)
	}
	if d.Labels == nil {
		labels = []byte("{}")
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = s.now()
	}
	return s.write(ctx, what, func(tx *sql.Tx) error {
		_, err := s.txExec(tx, `INSERT INTO devices (id, backend, tenant, labels, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET backend = excluded.backend, tenant = excluded.tenant, labels = excluded.labels,
			state = excluded.state, updated_at = excluded.updated_at`,
			d.ID, d.Backend, d.Tenant, string(labels), d.State, nanos(d.UpdatedAt))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

const deviceCols = "id, backend, tenant, labels, state, updated_at"

func scanDevice(r scanner) (Device, error) {
	var d Device
	var labels string
	var at int64
	if err := r.Scan(&d.ID, &d.Backend, &d.Tenant, &labels, &d.State, &at); err != nil {
		return Device{}, err
	}
	d.UpdatedAt = fromNanos(at)
	if err := json.Unmarshal([]byte(labels), &d.Labels); err != nil {
		return Device{}, fmt.Errorf("device %s labels: %w", d.ID, err)
	}
	if len(d.Labels) == 0 {
		d.Labels = nil
	}
	return d, nil
}

// Device returns the record of device id, or an error wrapping ErrNotFound.
func (s *Store) Device(ctx context.Context, id string) (Device, error) {
	if s.isClosed() {
		return Device{}, fmt.Errorf("get device %s: %w", id, ErrClosed)
	}
	d, err := scanDevice(s.rdb.QueryRowContext(ctx, "SELECT "+deviceCols+" FROM devices WHERE id = ?", id))
	if err != nil {
		return Device{}, s.readErr("get device "+id, err)
	}
	return d, nil
}

// ListDevices returns the device records, by ID; tenant "" lists all.
func (s *Store) ListDevices(ctx context.Context, tenant string) ([]Device, error) {
	if s.isClosed() {
		return nil, fmt.Errorf("list devices: %w", ErrClosed)
	}
	rows, err := s.rdb.QueryContext(ctx, "SELECT "+deviceCols+" FROM devices WHERE ? = '' OR tenant = ? ORDER BY id", tenant, tenant)
	if err != nil {
		return nil, s.readErr("list devices", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, s.readErr("list devices", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readErr("list devices", err)
	}
	return out, nil
}
