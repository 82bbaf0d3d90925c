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
// A file is identified by its device and inode (on Windows, volume serial
// number and file index). Lines are delivered in file
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
//     restarts the file at offset 0. If a pattern also matches the copy
//     (x.log*), the copy is known by its head (below) and continues from
//     the original's offset, so the lines the original had not given when
//     it was truncated are read from the copy, none twice. Limits: lines
//     written between the copy and the truncation are in neither file and
//     are lost (inherent to copytruncate; prefer rename rotation); without a
//     pattern matching the copy, so are the lines written after the last
//     read. A truncation whose new content has exactly the same 64 bytes at
//     that place is missed. The writer must append (O_APPEND), as logging
//     daemons do.
//   - Compressed files. A file is compressed when it starts with the magic
//     bytes of gzip, bzip2, zstd, xz or lz4, whatever its name. A gzip or
//     bzip2 file whose decompressed head is that of content already read
//     (a rotation compressed by logrotate) is decompressed and read from
//     where that content was read to; that is nothing when it was read
//     whole. Any other compressed file matching the patterns is skipped,
//     logged once and counted (compressed_skipped); zstd, xz and lz4 always
//     are, since the standard library cannot decompress them. A compressed
//     file still being written is read to its last complete line and again
//     when it grows.
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
// # Heads: a copy or a new file
//
// A file's head is its first 256 bytes (all of it if shorter). A file new
// to the follower, at a matching path, is placed by its head: if it is
// that of content already read (an open file, a saved offset, or former
// content: a file truncated, closed after its rotation or gone while
// stopped, the last 64 kept), the file is a copy of it and continues from
// the furthest offset that content was read to; while its original is
// still open and not truncated, the copy is not read at all, and takes over
// from the original's offset when that is truncated or closed. Otherwise it
// is read from 0. Heads match when both files start with the same 256
// bytes, or when the new file starts with all of a shorter known head
// (then all of its file) holding a whole line. A new file that is a
// strict prefix of a known head (a copy that has only begun) waits until it
// can be told. A copy that grows larger than its original is no copy: it is
// read from the line where the two differ.
//
// # Offsets and restarts
//
// With a StateDir, the offset of every open file is written to
// StateDir/offsets.json with its identity, its head and a fingerprint (the
// 64 bytes just before the offset), at most every SaveInterval when it
// changed, at once when a file is first placed (so that no file a crash
// interrupts is unknown at the restart), and when Run returns. Former
// content and the compressed files dealt with are saved too. The file is replaced atomically (temporary
// file, fsync, rename, fsync of the directory). A saved offset covers only
// lines already returned from the handler, so a crash repeats at most the
// lines delivered after the last save and never loses one.
//
// At restart each saved file is looked for by identity (device and inode
// on Unix, volume serial number and file index on Windows) at the matching
// paths, then in its folder under any name (x.log.1). What is found decides:
//
//	identity       size and fingerprint          head                     action
//	found          size >= offset, same bytes    -                        resume at the offset (finish it first if it left the patterns)
//	found          smaller, or other bytes       that of content read     a copy given the inode number: from that content's offset
//	found          smaller, or other bytes       unknown                  the same file, truncated: from 0, whatever its name
//	not found      -                             -                        gone: a compressed file in its folder with its head is read from the offset
//	(a new file)   -                             that of content read     a copy: from that content's offset
//	(a new file)   -                             unknown                  from 0 (StartAt on a first start)
//	(compressed)   -                             that of content read     gzip, bzip2: decompressed, read from that content's offset
//	(compressed)   -                             unknown, or zstd/xz/lz4  skipped, logged once, counted (compressed_skipped)
//
// The inode-reuse rule (second row) is what keeps a copy that the
// filesystem gave a freed inode number from being read again. Without an
// offsets file (first start, or no StateDir), files present at start begin
// at StartAt; files that appear later always begin at 0.
//
// # What is still impossible
//
//   - A file created and rotated away (or deleted) between two looks, and
//     lines written to a file after the last read and before it was
//     deleted or compressed to a format other than gzip or bzip2: no copy
//     of them is left to read.
//   - Lines written between copytruncate's copy and its truncation: they
//     are in no file.
//   - Telling a stranger that got a saved file's inode number, with a head
//     matching no content read, from the same file truncated: both are
//     read from 0 (Unix does not say whether an inode number was reused).
//   - Two different files that start with the same 256 bytes are taken
//     for copies, since the head is all that tells a copy from new
//     content: the second is read only from where the two differ, and not
//     at all while the first is followed and larger. Syslog lines start
//     with a timestamp and a hostname, so this takes files written the same
//     millisecond with the same first lines.
//   - On Windows, files on ReFS have 128-bit IDs of which only 64 bits are
//     used.
package follow
