//go:build unix

package kcache

import (
	"os"
	"syscall"
)

// ownerOf returns the owner's UID and the inode of a file; ok is false when
// the system does not say.
func ownerOf(fi os.FileInfo) (uid int, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), uint64(st.Ino), true
}
