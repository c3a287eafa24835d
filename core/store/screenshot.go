package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Screenshots are files under Dir/screenshots, named by the sha256 of
// their content: screenshots/ab/abcdef….png. A file is written once
// (temp file, rename), so a reader never sees half of one, and two events
// with the same screen share it.
//
// Durability follows Options.Sync. With SyncFull the file's data is
// fsynced before the rename (by the caller, so many callers' fsyncs run in
// parallel) and its directory is fsynced by the writer goroutine before
// the next commit, once per directory per batch: an event never commits
// before the screenshot it references is durable. With SyncNormal nothing
// is fsynced (a kill -9 loses nothing; an OS crash may lose or truncate
// recent files). Either way a file whose content does not match its name
// is never served: Screenshot verifies the hash and removes a bad file, so
// the next PutScreenshot of that screen writes it again.

// validHash reports whether h is a lowercase sha256 hex digest (so that it
// is safe as a file name).
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// shotPath is the file of the screenshot with hash h.
func (s *Store) shotPath(h string) string {
	return filepath.Join(s.shots, h[:2], h+".png")
}

// PutScreenshot keeps png under its sha256 and returns the hash (lowercase
// hex). Keeping the same content again writes nothing but refreshes the
// file's time, which screenshot retention counts from.
func (s *Store) PutScreenshot(ctx context.Context, png []byte) (string, error) {
	sum := sha256.Sum256(png)
	h := hex.EncodeToString(sum[:])
	what := "put screenshot " + h
	if len(png) == 0 {
		return "", fmt.Errorf("put screenshot: %w: empty", ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if s.isClosed() {
		return "", fmt.Errorf("%s: %w", what, ErrClosed)
	}
	path := s.shotPath(h)
	now := s.now()
	if err := os.Chtimes(path, now, now); err == nil {
		return h, nil // kept already
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	durable := s.opts.Sync == SyncFull
	if err := writeFileAtomic(path, png, now, durable); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if durable {
		s.dirty.add(filepath.Dir(path))
	}
	return h, nil
}

// dirtyDirs is the set of directories with renames to fsync before the
// next commit.
type dirtyDirs struct {
	mu   sync.Mutex
	dirs map[string]struct{}
}

func (d *dirtyDirs) add(dir string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dirs == nil {
		d.dirs = map[string]struct{}{}
	}
	d.dirs[dir] = struct{}{}
}

// sync fsyncs every dirty directory, in parallel (concurrent fsyncs share
// the filesystem's journal commits). A directory whose fsync fails stays
// dirty (and the error is returned), so it is tried again.
func (d *dirtyDirs) sync() error {
	d.mu.Lock()
	dirs := d.dirs
	d.dirs = nil
	d.mu.Unlock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for dir := range dirs {
		wg.Go(func() {
			if err := syncDir(dir); err != nil {
				d.add(dir)
				mu.Lock()
				errs = append(errs, fmt.Errorf("sync screenshot directory %s: %w", dir, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// writeFileAtomic writes data to path through a temp file renamed into
// place; with durable the temp file is fsynced before the rename (the
// directory is the caller's to sync). The file's times are set to mtime
// (the store's clock, which retention counts in).
func writeFileAtomic(path string, data []byte, mtime time.Time, durable bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o640); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Screenshot returns the screenshot kept under hash sha (lowercase hex), or
// an error wrapping ErrNotFound (never kept, or deleted by retention), or
// ErrInvalid for a malformed hash.
func (s *Store) Screenshot(ctx context.Context, sha string) ([]byte, error) {
	what := "read screenshot " + sha
	if !validHash(sha) {
		return nil, fmt.Errorf("read screenshot %q: %w: not a sha256 hex digest", sha, ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if s.isClosed() {
		return nil, fmt.Errorf("%s: %w", what, ErrClosed)
	}
	path := s.shotPath(sha)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != sha {
		// Truncated by an OS crash (SyncNormal) or damaged on disk: never
		// serve it, and let the next PutScreenshot write it again.
		s.log.Warn("store: removing a screenshot whose content does not match its hash", "path", path)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: remove a damaged file: %w", what, err)
		}
		return nil, fmt.Errorf("%s: %w (the file was damaged and was removed)", what, ErrNotFound)
	}
	return b, nil
}

// shotAge is how long ago a screenshot file was last written or kept again.
func shotAge(info fs.FileInfo, now time.Time) time.Duration {
	return now.Sub(info.ModTime())
}

// ScreenshotVisible reports whether a step of one of tenant's tasks
// references the screenshot sha ("" tenant: any task's). A screenshot is
// served by hash only to a tenant one of whose tasks took it.
func (s *Store) ScreenshotVisible(ctx context.Context, sha, tenant string) (bool, error) {
	if !validHash(sha) {
		return false, fmt.Errorf("screenshot %q: %w: not a sha256 hex digest", sha, ErrInvalid)
	}
	if s.isClosed() {
		return false, fmt.Errorf("screenshot %s: %w", sha, ErrClosed)
	}
	var one int
	err := s.rdb.QueryRowContext(ctx, `SELECT 1 FROM events e JOIN tasks t ON t.id = e.task_id
		WHERE e.screenshot = ? AND (? = '' OR t.tenant = ?) LIMIT 1`, sha, tenant, tenant).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("screenshot %s: %w", sha, err)
	}
	return true, nil
}
