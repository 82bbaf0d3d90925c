// Package follow follows the files a syslog server (rsyslog, syslog-ng)
// writes, like tail -F, and hands every complete line to a handler, for the
// live daemon (leakwatch run).
//
// # Why fsnotify and not hpcloud/tail or nxadm/tail
//
// The daemon must survive anything a log directory can do at 3 a.m. The tail
// libraries end the process on some watcher errors (their util.Fatal calls
// os.Exit), which no caller can recover from. This package uses
// github.com/fsnotify/fsnotify only to learn early that something changed
// and decides everything itself from stat and read results: no error of any
// kind ends Run. Every failure is logged once when it starts (and once when
// it ends), counted in Stats by reason, and retried every PollInterval.
//
// # How changes are noticed
//
// With inotify the follower watches directories, not files: for each
// pattern the deepest existing directory above its first wildcard (so that
// a missing folder is noticed when it appears) and every existing directory
// matching its wildcard levels. A write event on a followed file reads it at
// once, so a line reaches the handler within a millisecond or so. Create,
// rename, remove and attribute events re-glob the patterns. Polling always
// runs as a safety net every PollInterval: it re-globs, checks every file for
// rotation and truncation, and reads every file. If inotify cannot be set up
// or fails, or with Config.Poll (NFS), polling alone is used; the follower
// keeps trying to set inotify up again unless Poll is set.
//
// # What is guaranteed
//
// A file is identified by its device and inode. Lines are delivered in file
// order, each exactly once, from a single goroutine, within these limits:
//
//   - Rename rotation (mv x.log x.log.1, then a new x.log). When the file
//     leaves its path, it is read to its end before the new file at the path
//     is opened, so that the old lines come first. It is then still read, on
//     its write events and every PollInterval, until it has not grown for
//     RotateWait, since a daemon writes to it until it reopens; then it is
//     closed. If the rotated name also matches a pattern, the file is simply
//     followed on under its new name and never read again from the start.
//     Limit: a file created and renamed away before the follower ever saw it
//     at a matching path (within one event or one PollInterval) is not read.
//   - Copytruncate (copy then truncate in place). A truncation is detected
//     when the file is shorter than the read offset, and also when it has
//     grown back past that offset between two reads: the follower remembers
//     the 64 bytes before its offset and checks, after every read and before
//     using the bytes read, that the file still holds them there. Detection
//     restarts the file at offset 0. Limit: lines written after the last read
//     and before the truncation are only in the copy, and are lost (this is
//     inherent to copytruncate; prefer rename rotation). A truncation whose
//     new content has exactly the same 64 bytes at that place is missed.
//     The writer must append (O_APPEND), as logging daemons do.
//   - Delete and recreate. The deleted file stays readable through the open
//     descriptor and is finished like a renamed one; the new file is read
//     from its start. Same limit as renaming for a file deleted before it was
//     ever seen.
//   - Missing at start. A file, or any folder above it, that does not exist
//     yet is picked up when it appears and read from its first byte.
//   - Permission denied. Counted (permission_denied) and logged once, retried
//     every PollInterval; a file known from the offsets keeps its saved offset
//     meanwhile. Such a file does not hold CaughtUp back.
//   - Partial last line. A last line without its newline is held until the
//     newline arrives; it is delivered early only in three cases: when it
//     reaches MaxLineBytes (see below), when a rotated file has been quiet
//     for RotateWait (it can no longer be completed; it may then come after
//     lines of the new file), and when a truncation cuts it. At shutdown it
//     is not delivered: the saved offset stops before it and the next run
//     reads it whole.
//   - Long lines. A line longer than MaxLineBytes is cut: its first
//     MaxLineBytes bytes are delivered as soon as they are read, the rest up
//     to the next newline is dropped and counted (truncated_line, and
//     TruncatedBytes per file). Memory per file is one buffer of
//     max(MaxLineBytes, 64 KiB), whatever the line length.
//
// # Offsets and restarts
//
// With a StateDir, the offset of every open file is written to
// StateDir/offsets.json with its identity and a fingerprint (the bytes just
// before the offset), at most every SaveInterval when it changed, and when
// Run returns. The file is replaced atomically (temporary file, fsync,
// rename, fsync of the directory). A saved offset covers only lines already
// returned from the handler, so a crash repeats at most the lines delivered
// after the last save and never loses one. At restart a file is resumed by
// identity. If the identity saved for a path is no longer at a matching path,
// the follower looks for it in that path's directory (x.log.1): a file
// rotated while the daemon was down is finished from its saved offset before
// the new file is read. A file whose fingerprint no longer matches was
// truncated while down and is read from 0. A rotated file that was also
// compressed or deleted while down is gone, and with it its unread end.
// Without an offsets file (first start, or no StateDir), files present at
// start begin at StartAt; files that appear later always begin at 0.
//
// Patterns should match the live files only: a copy such as x.log.1 made by
// copytruncate, or a compressed x.log.1.gz, is a new file to the follower and
// is read from its start.
package follow
