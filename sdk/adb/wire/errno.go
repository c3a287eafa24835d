package wire

import (
	"errors"
	"fmt"
	"io/fs"
)

// Errno is a Linux errno as the sync protocol carries it (stat_v2, ls_v2).
// It matches the io/fs sentinel errors with errors.Is.
type Errno uint32

// Linux errno values used on the wire.
const (
	EPERM   Errno = 1
	ENOENT  Errno = 2
	EIO     Errno = 5
	EACCES  Errno = 13
	EEXIST  Errno = 17
	ENOTDIR Errno = 20
	EISDIR  Errno = 21
	EINVAL  Errno = 22
	ENOSPC  Errno = 28
)

var errnoText = map[Errno]string{
	EPERM: "Operation not permitted", ENOENT: "No such file or directory", EIO: "I/O error",
	EACCES: "Permission denied", EEXIST: "File exists", ENOTDIR: "Not a directory",
	EISDIR: "Is a directory", EINVAL: "Invalid argument", ENOSPC: "No space left on device",
}

func (e Errno) Error() string {
	if s, ok := errnoText[e]; ok {
		return s
	}
	return fmt.Sprintf("errno %d", uint32(e))
}

// Is maps errnos to the io/fs sentinels.
func (e Errno) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e == ENOENT
	case fs.ErrPermission:
		return e == EACCES || e == EPERM
	case fs.ErrExist:
		return e == EEXIST
	case fs.ErrInvalid:
		return e == EINVAL
	}
	return false
}

// ErrnoOf returns the errno that best describes err for the wire: the
// Errno inside it, or one matching an io/fs sentinel, or EIO.
func ErrnoOf(err error) Errno {
	var e Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e
	case errors.Is(err, fs.ErrNotExist):
		return ENOENT
	case errors.Is(err, fs.ErrPermission):
		return EACCES
	case errors.Is(err, fs.ErrExist):
		return EEXIST
	case errors.Is(err, fs.ErrInvalid):
		return EINVAL
	}
	return EIO
}
