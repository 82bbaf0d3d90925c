// Package mmp runs commands on the MMP, the SSH management console of a
// Cisco Meeting Server, and is how leakwatch sends `webbridge restart`.
//
// A restart drops every live WebRTC session on that Web Bridge, and the
// MMP account can reconfigure the whole server, so this package assumes
// the network between leakwatch and the MMP is hostile and that its own
// logs, metrics and audit trail are read by more people than the MMP
// password should be.
//
// # Host key trust
//
// A host key is never accepted silently: there is no code path that
// skips verification. A key is accepted when the known_hosts file lists
// it for the target's address (plain or hashed `|1|` entries, as OpenSSH
// writes them), or when it matches the target's pinned Fingerprint. A pin
// does not override known_hosts: if known_hosts records a different key
// for the address, the connection is refused as ErrHostKeyChanged, because
// the two trust sources contradict each other and only a human can tell
// which is stale. A key marked @revoked is refused.
//
// An unknown key (ErrHostKeyUnknown) and a changed key (ErrHostKeyChanged,
// a possible man in the middle) abort the handshake before any
// credential is sent. Trust on first use is explicit only: Probe reports
// the fingerprint of an unknown key, and AddKnownHost records it when the
// operator accepts it (`leakwatch check --accept-host-key` or `--accept-new-host-keys`). AddKnownHost
// never replaces a recorded key; a changed key has to be removed by hand
// (ssh-keygen -R) after finding out why it changed. When known_hosts
// lists several key types for a host, the client asks the server for
// those types first, so that a server with several host keys does not
// present an unlisted one and fail as unknown.
//
// # Secrets
//
// The configuration names where the password and key passphrase live (an
// environment variable or a file), never the secrets themselves;
// Auth.Resolve reads them. Secrets are never put in an error, a log line
// or a Result: errors name the variable or file, Auth redacts itself when
// printed or logged, and the x/crypto errors wrapped here carry no
// credentials. The password is sent at most once per connection, by the
// password or the keyboard-interactive method (one hidden prompt only),
// so a wrong password costs one failed attempt against the appliance's
// lock-out policy, not several. Public key authentication (key file,
// optionally encrypted, or ssh-agent) is tried first and sends no secret.
//
// # Pacing and timeouts
//
// MMP appliances have been reported to misbehave when SSH channels are
// opened in quick succession. Every Run and Probe opens one connection
// with at most one channel, and connection openings to one host are
// spaced at least Options.MinInterval apart (2s by default), also when
// callers run concurrently. DialTimeout bounds the TCP connect, the SSH
// handshake and authentication together, so a port that accepts TCP but
// never speaks SSH fails as ErrDialTimeout rather than hanging.
// CommandTimeout bounds the command; on expiry the connection is closed,
// which is all an SSH client can do to stop a remote command.
//
// # Errors
//
// Every failure wraps one sentinel error (ErrHostKeyUnknown,
// ErrHostKeyChanged, ErrAuth, ErrDialTimeout, ErrConnRefused, ErrConnect,
// ErrCommandTimeout, ErrCommandFailed with ErrFailureOutput or
// ErrExitStatus, ErrForbiddenCommand), and Classify turns it into a short
// label for metrics and audit entries. Output containing "FAILURE", the
// MMP's way of reporting a failed command, is an error even with exit
// status 0. The MMP's exit status behaviour is undocumented; a session
// that ends without one reports ExitStatus -1 and is not an error by
// itself.
//
// As a last guard, Run sends only the exact commands in RestartCommands
// (today `webbridge restart`), whatever its caller asks.
package mmp
