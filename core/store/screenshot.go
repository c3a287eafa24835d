package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Screenshots are files under Dir/screenshots, named by the sha256 of
// their content: screenshots/ab/abcdef….png. A file is written once
// (temp file, fsync, rename), so a reader never sees half of one, and two
// events with the same screen share it.

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
	if err := writeFileAtomic(path, png, now); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return h, nil
}

// writeFileAtomic writes data to path through a synced temp file renamed
// into place, then syncs the directory so the rename is durable. The file's
// times are set to mtime (the store's clock, which retention counts in).
func writeFileAtomic(path string, data []byte, mtime time.Time) error {
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
	if err := f.Sync(); err != nil {
		f.Close()
		return err
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
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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
	b, err := os.ReadFile(s.shotPath(sha))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}

// shotAge is how long ago a screenshot file was last written or kept again.
func shotAge(info fs.FileInfo, now time.Time) time.Duration {
	return now.Sub(info.ModTime())
}
