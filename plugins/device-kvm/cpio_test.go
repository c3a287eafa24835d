package main

import (
	"fmt"
	"io"
)

// File types in a newc cpio header's mode.
const (
	modeDir  = 0o040000
	modeFile = 0o100000
	modeLink = 0o120000
	modeChar = 0o020000
)

// cpioFile is one entry of an initramfs; a symlink's data is its target.
type cpioFile struct {
	name                 string
	mode                 uint32
	data                 []byte
	rdevMajor, rdevMinor uint32
}

// writeCPIO writes files as a "newc" cpio archive, the format the kernel
// unpacks as an initramfs, so the tests need no cpio binary.
func writeCPIO(w io.Writer, files []cpioFile) error {
	ino := uint32(1)
	for _, f := range append(files, cpioFile{name: "TRAILER!!!"}) {
		nlink := uint32(1)
		if f.mode&0o170000 == modeDir {
			nlink = 2
		}
		name := f.name + "\x00"
		hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, f.mode, 0, 0, nlink, 0, len(f.data), 0, 0, f.rdevMajor, f.rdevMinor, len(name), 0)
		ino++
		if _, err := io.WriteString(w, hdr+name+pad(len(hdr)+len(name))); err != nil {
			return err
		}
		if _, err := w.Write(f.data); err != nil {
			return err
		}
		if _, err := io.WriteString(w, pad(len(f.data))); err != nil {
			return err
		}
	}
	return nil
}

// pad returns the NULs that align n bytes to 4.
func pad(n int) string {
	return "\x00\x00\x00"[:(4-n%4)%4]
}
