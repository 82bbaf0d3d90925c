package mmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/leakwatch/leakwatch/internal/mmp/mmptest"
)

func TestRunAuthMethods(t *testing.T) {
	clientKey, clientPriv := newKey(t)
	tests := []struct {
		name       string
		server     mmptest.ServerConfig
		auth       func(t *testing.T) Auth
		wantMethod string
	}{
		{
			name:       "password",
			server:     mmptest.ServerConfig{Password: testPassword},
			auth:       func(*testing.T) Auth { return Auth{Password: testPassword} },
			wantMethod: "password",
		},
		{
			name:       "keyboard-interactive",
			server:     mmptest.ServerConfig{Password: testPassword, NoPasswordMethod: true},
			auth:       func(*testing.T) Auth { return Auth{Password: testPassword} },
			wantMethod: "keyboard-interactive",
		},
		{
			name:   "password from env",
			server: mmptest.ServerConfig{Password: testPassword},
			auth: func(t *testing.T) Auth {
				t.Setenv("LEAKWATCH_TEST_MMP_PASSWORD", testPassword)
				return Auth{PasswordEnv: "LEAKWATCH_TEST_MMP_PASSWORD"}
			},
			wantMethod: "password",
		},
		{
			name:   "password from file",
			server: mmptest.ServerConfig{Password: testPassword},
			auth: func(t *testing.T) Auth {
				return Auth{PasswordFile: writeFile(t, "pw", testPassword+"\n", 0o600)}
			},
			wantMethod: "password",
		},
		{
			name:   "public key",
			server: mmptest.ServerConfig{AuthorizedKeys: []ssh.PublicKey{clientKey.PublicKey()}},
			auth: func(t *testing.T) Auth {
				return Auth{KeyFile: writePrivateKey(t, clientPriv, "")}
			},
			wantMethod: "publickey",
		},
		{
			name:   "encrypted public key with passphrase from env",
			server: mmptest.ServerConfig{AuthorizedKeys: []ssh.PublicKey{clientKey.PublicKey()}},
			auth: func(t *testing.T) Auth {
				t.Setenv("LEAKWATCH_TEST_KEY_PASSPHRASE", testPassword)
				return Auth{KeyFile: writePrivateKey(t, clientPriv, testPassword), KeyPassphraseEnv: "LEAKWATCH_TEST_KEY_PASSPHRASE"}
			},
			wantMethod: "publickey",
		},
		{
			name:   "agent",
			server: mmptest.ServerConfig{AuthorizedKeys: []ssh.PublicKey{clientKey.PublicKey()}},
			auth: func(t *testing.T) Auth {
				return Auth{UseAgent: true, AgentSocket: startAgent(t, clientPriv)}
			},
			wantMethod: "publickey",
		},
		{
			name:   "agent from SSH_AUTH_SOCK",
			server: mmptest.ServerConfig{AuthorizedKeys: []ssh.PublicKey{clientKey.PublicKey()}},
			auth: func(t *testing.T) Auth {
				t.Setenv("SSH_AUTH_SOCK", startAgent(t, clientPriv))
				return Auth{UseAgent: true}
			},
			wantMethod: "publickey",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var restarted []string
			var mu sync.Mutex
			cfg := tt.server
			cfg.Name = "wb1"
			cfg.OnRestart = func(name string) {
				mu.Lock()
				defer mu.Unlock()
				restarted = append(restarted, name)
			}
			srv := startMMP(t, cfg)
			c, logs := newTestClient(t, fastOptions(writeKnownHosts(t, srv.KnownHostsLine())), tt.auth(t))

			res, err := c.Run(context.Background(), Target{Name: "wb1", Address: srv.Addr(), User: "admin"})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if !strings.Contains(res.Output, "SUCCESS") || res.ExitStatus != 0 {
				t.Errorf("Result = %+v, want SUCCESS output and exit 0", res)
			}
			if want := ssh.FingerprintSHA256(srv.HostKey()); res.Fingerprint != want {
				t.Errorf("Fingerprint = %q, want %q", res.Fingerprint, want)
			}
			got := srv.Received()
			if len(got) != 1 || got[0].Command != DefaultCommand || got[0].AuthMethod != tt.wantMethod || got[0].User != "admin" {
				t.Errorf("server received %+v, want one %q by %s as admin", got, DefaultCommand, tt.wantMethod)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(restarted) != 1 || restarted[0] != "wb1" {
				t.Errorf("OnRestart calls = %v, want [wb1]", restarted)
			}
			assertNoSecret(t, testPassword, logs.String(), res.Output)
		})
	}
}

// startAgent serves an in-memory ssh-agent holding priv on a unix socket
// and returns the socket path.
func startAgent(t *testing.T, priv any) string {
	t.Helper()
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				agent.ServeAgent(keyring, conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return sock
}

func TestRunAuthRejected(t *testing.T) {
	_, otherPriv := newKey(t)
	authorized, _ := newKey(t)
	tests := []struct {
		name   string
		server mmptest.ServerConfig
		auth   func(t *testing.T) Auth
		// wantTries is how many passwords the server may see: a wrong
		// password must be sent once, not once per method.
		wantTries int
	}{
		{
			name:      "wrong password, password and keyboard-interactive offered",
			server:    mmptest.ServerConfig{Password: "the-right-one"},
			auth:      func(*testing.T) Auth { return Auth{Password: testPassword} },
			wantTries: 1,
		},
		{
			name:      "wrong password, keyboard-interactive only",
			server:    mmptest.ServerConfig{Password: "the-right-one", NoPasswordMethod: true},
			auth:      func(*testing.T) Auth { return Auth{Password: testPassword} },
			wantTries: 1,
		},
		{
			name:      "server rejects everything",
			server:    mmptest.ServerConfig{Password: testPassword, Faults: mmptest.Faults{RejectAuth: true}},
			auth:      func(*testing.T) Auth { return Auth{Password: testPassword} },
			wantTries: 1,
		},
		{
			name:   "key not authorized",
			server: mmptest.ServerConfig{AuthorizedKeys: []ssh.PublicKey{authorized.PublicKey()}},
			auth: func(t *testing.T) Auth {
				return Auth{KeyFile: writePrivateKey(t, otherPriv, "")}
			},
			wantTries: 0,
		},
		{
			name:      "wrong user",
			server:    mmptest.ServerConfig{User: "operator", Password: testPassword},
			auth:      func(*testing.T) Auth { return Auth{Password: testPassword} },
			wantTries: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startMMP(t, tt.server)
			c, logs := newTestClient(t, fastOptions(writeKnownHosts(t, srv.KnownHostsLine())), tt.auth(t))
			res, err := c.Run(context.Background(), Target{Name: "wb1", Address: srv.Addr(), User: "admin"})
			if !errors.Is(err, ErrAuth) || Classify(err) != "auth" {
				t.Fatalf("Run error = %v (class %q), want ErrAuth", err, Classify(err))
			}
			if got := srv.PasswordAttempts(); got != tt.wantTries {
				t.Errorf("server saw %d password attempts, want %d", got, tt.wantTries)
			}
			if len(srv.Commands()) != 0 {
				t.Errorf("commands ran despite failed auth: %v", srv.Commands())
			}
			assertNoSecret(t, testPassword, err.Error(), fmt.Sprintf("%+v", err), logs.String(), res.Output)
		})
	}
}

func TestRunHostKey(t *testing.T) {
	impostor, _ := newKey(t)
	tests := []struct {
		name string
		// knownHosts returns the known_hosts path for srv; "" means none.
		knownHosts func(t *testing.T, srv *mmptest.Server) string
		pin        func(srv *mmptest.Server) string
		wantErr    error
		wantClass  string
	}{
		{
			name:       "plain known_hosts entry",
			knownHosts: func(t *testing.T, srv *mmptest.Server) string { return writeKnownHosts(t, srv.KnownHostsLine()) },
		},
		{
			name: "hashed known_hosts entry",
			knownHosts: func(t *testing.T, srv *mmptest.Server) string {
				return writeKnownHosts(t, "# hashed by the test, as OpenSSH does", hashedKnownHostsLine(t, srv.Addr(), srv.HostKey()))
			},
		},
		{
			name: "unknown host",
			knownHosts: func(t *testing.T, srv *mmptest.Server) string {
				return writeKnownHosts(t, hashedKnownHostsLine(t, "10.0.0.1:22", srv.HostKey()))
			},
			wantErr: ErrHostKeyUnknown, wantClass: "host_key_unknown",
		},
		{
			name:       "known_hosts file missing",
			knownHosts: func(t *testing.T, _ *mmptest.Server) string { return filepath.Join(t.TempDir(), "absent") },
			wantErr:    ErrHostKeyUnknown, wantClass: "host_key_unknown",
		},
		{
			name:       "no known_hosts and no pin",
			knownHosts: func(*testing.T, *mmptest.Server) string { return "" },
			wantErr:    ErrHostKeyUnknown, wantClass: "host_key_unknown",
		},
		{
			name: "changed host key",
			knownHosts: func(t *testing.T, srv *mmptest.Server) string {
				return writeKnownHosts(t, hashedKnownHostsLine(t, srv.Addr(), impostor.PublicKey()))
			},
			wantErr: ErrHostKeyChanged, wantClass: "host_key_changed",
		},
		{
			name: "revoked host key",
			knownHosts: func(t *testing.T, srv *mmptest.Server) string {
				return writeKnownHosts(t, srv.KnownHostsLine(), "@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.HostKey()))))
			},
			wantErr: ErrHostKeyChanged, wantClass: "host_key_changed",
		},
		{
			name:       "pinned fingerprint matches, host not in known_hosts",
			knownHosts: func(*testing.T, *mmptest.Server) string { return "" },
			pin:        func(srv *mmptest.Server) string { return ssh.FingerprintSHA256(srv.HostKey()) },
		},
		{
			name:       "pinned fingerprint matches, with base64 padding",
			knownHosts: func(t *testing.T, srv *mmptest.Server) string { return writeKnownHosts(t, srv.KnownHostsLine()) },
			pin:        func(srv *mmptest.Server) string { return ssh.FingerprintSHA256(srv.HostKey()) + "=" },
		},
		{
			name:       "pinned fingerprint mismatch",
			knownHosts: func(t *testing.T, srv *mmptest.Server) string { return writeKnownHosts(t, srv.KnownHostsLine()) },
			pin:        func(*mmptest.Server) string { return ssh.FingerprintSHA256(impostor.PublicKey()) },
			wantErr:    ErrHostKeyChanged, wantClass: "host_key_changed",
		},
		{
			name: "pin matches but known_hosts records another key",
			knownHosts: func(t *testing.T, srv *mmptest.Server) string {
				return writeKnownHosts(t, fmt.Sprintf("[127.0.0.1]:%s %s", port(t, srv.Addr()),
					strings.TrimSpace(string(ssh.MarshalAuthorizedKey(impostor.PublicKey())))))
			},
			pin:     func(srv *mmptest.Server) string { return ssh.FingerprintSHA256(srv.HostKey()) },
			wantErr: ErrHostKeyChanged, wantClass: "host_key_changed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startMMP(t, mmptest.ServerConfig{Password: testPassword})
			c, _ := newTestClient(t, fastOptions(tt.knownHosts(t, srv)), Auth{Password: testPassword})
			target := Target{Name: "wb1", Address: srv.Addr(), User: "admin"}
			if tt.pin != nil {
				target.Fingerprint = tt.pin(srv)
			}
			res, err := c.Run(context.Background(), target)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if len(srv.Commands()) != 1 {
					t.Errorf("server commands = %v, want one", srv.Commands())
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || Classify(err) != tt.wantClass {
				t.Fatalf("Run error = %v (class %q), want %v (%s)", err, Classify(err), tt.wantErr, tt.wantClass)
			}
			var hk *HostKeyError
			if !errors.As(err, &hk) || hk.Fingerprint != ssh.FingerprintSHA256(srv.HostKey()) {
				t.Errorf("error %v does not carry the presented fingerprint", err)
			}
			if res.Fingerprint != ssh.FingerprintSHA256(srv.HostKey()) {
				t.Errorf("Result.Fingerprint = %q, want the presented key's", res.Fingerprint)
			}
			// A refused host must never see a credential or a command.
			if n := srv.PasswordAttempts(); n != 0 {
				t.Errorf("password sent %d times to a refused host", n)
			}
			if cmds := srv.Commands(); len(cmds) != 0 {
				t.Errorf("commands ran on a refused host: %v", cmds)
			}
		})
	}
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunCommandTimeout(t *testing.T) {
	srv := startMMP(t, mmptest.ServerConfig{Password: testPassword, Faults: mmptest.Faults{Hang: true}})
	opts := fastOptions(writeKnownHosts(t, srv.KnownHostsLine()))
	opts.CommandTimeout = 300 * time.Millisecond
	c, _ := newTestClient(t, opts, Auth{Password: testPassword})

	start := time.Now()
	res, err := c.Run(context.Background(), Target{Name: "wb1", Address: srv.Addr(), User: "admin"})
	elapsed := time.Since(start)
	if !errors.Is(err, ErrCommandTimeout) || Classify(err) != "command_timeout" {
		t.Fatalf("Run error = %v (class %q), want ErrCommandTimeout", err, Classify(err))
	}
	if elapsed < opts.CommandTimeout || elapsed > opts.CommandTimeout+opts.DialTimeout {
		t.Errorf("Run took %v, want about %v", elapsed, opts.CommandTimeout)
	}
	if res.Duration < opts.CommandTimeout {
		t.Errorf("Result.Duration = %v, want >= %v", res.Duration, opts.CommandTimeout)
	}
	if cmds := srv.Commands(); len(cmds) != 1 {
		t.Errorf("server commands = %v, want the one that hung", cmds)
	}
}

func TestRunCanceled(t *testing.T) {
	srv := startMMP(t, mmptest.ServerConfig{Password: testPassword, Faults: mmptest.Faults{Hang: true}})
	c, _ := newTestClient(t, fastOptions(writeKnownHosts(t, srv.KnownHostsLine())), Auth{Password: testPassword})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, Target{Name: "wb1", Address: srv.Addr(), User: "admin"})
		done <- err
	}()
	// Cancel once the command is running on the server.
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Commands()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("command never reached the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || Classify(err) != "canceled" {
		t.Fatalf("Run error = %v (class %q), want context.Canceled", err, Classify(err))
	}
}

func TestRunCommandResult(t *testing.T) {
	tests := []struct {
		name       string
		faults     mmptest.Faults
		command    string
		wantErr    error
		wantClass  string
		wantStatus int
		wantOutput string
	}{
		{name: "success", wantStatus: 0, wantOutput: "SUCCESS"},
		{name: "FAILURE output", faults: mmptest.Faults{PrintFailure: true}, wantErr: ErrFailureOutput, wantClass: "failure_output", wantStatus: 1, wantOutput: "FAILURE"},
		{name: "no exit status reported", faults: mmptest.Faults{NoExitStatus: true}, wantStatus: -1, wantOutput: "SUCCESS"},
		{name: "delayed answer within timeout", faults: mmptest.Faults{Delay: 100 * time.Millisecond}, wantStatus: 0, wantOutput: "SUCCESS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startMMP(t, mmptest.ServerConfig{Password: testPassword, Faults: tt.faults})
			c, _ := newTestClient(t, fastOptions(writeKnownHosts(t, srv.KnownHostsLine())), Auth{Password: testPassword})
			res, err := c.Run(context.Background(), Target{Name: "wb1", Address: srv.Addr(), User: "admin", Command: tt.command})
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Run: %v", err)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrCommandFailed) || Classify(err) != tt.wantClass {
					t.Fatalf("Run error = %v (class %q), want %v", err, Classify(err), tt.wantErr)
				}
				if !strings.Contains(err.Error(), "FAILURE") {
					t.Errorf("error %q does not quote the FAILURE line", err)
				}
			}
			if res.ExitStatus != tt.wantStatus || !strings.Contains(res.Output, tt.wantOutput) {
				t.Errorf("Result = %+v, want exit %d and output containing %q", res, tt.wantStatus, tt.wantOutput)
			}
		})
	}
}

func TestRunForbiddenCommand(t *testing.T) {
	srv := startMMP(t, mmptest.ServerConfig{Password: testPassword})
	c, _ := newTestClient(t, fastOptions(writeKnownHosts(t, srv.KnownHostsLine())), Auth{Password: testPassword})
	for _, cmd := range []string{"callbridge restart", "webbridge3 restart", "CallBridge restart", "webbridge restart\ncallbridge restart", "  ",
		"reboot", "shutdown", "webbridge restart; reboot", "webbridge restart && reboot", "webbridge frobnicate", "webbridge  restart", "webbridge restart "} {
		_, err := c.Run(context.Background(), Target{Name: "wb1", Address: srv.Addr(), User: "admin", Command: cmd})
		if !errors.Is(err, ErrForbiddenCommand) || Classify(err) != "forbidden_command" {
			t.Errorf("Run(%q) error = %v, want ErrForbiddenCommand", cmd, err)
		}
	}
	if cmds := srv.Commands(); len(cmds) != 0 {
		t.Errorf("forbidden commands reached the server: %q", cmds)
	}
}

func TestRunConnectionRefused(t *testing.T) {
	c, _ := newTestClient(t, fastOptions(""), Auth{Password: testPassword})
	_, err := c.Run(context.Background(), Target{Name: "wb1", Address: freePort(t), User: "admin"})
	if !errors.Is(err, ErrConnRefused) || Classify(err) != "connect" {
		t.Fatalf("Run error = %v (class %q), want ErrConnRefused", err, Classify(err))
	}
}

// TestRunDialTimeoutSilentServer covers a port that accepts TCP but never
// speaks SSH (a wedged appliance, a tarpit). Making a loopback TCP connect
// itself time out is not deterministic, so the test relies on
// DialTimeout covering the handshake: the client must give up after
// DialTimeout instead of waiting for a banner forever.
func TestRunDialTimeoutSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var accepted []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c) // held open, never written to
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range accepted {
			c.Close()
		}
	})

	opts := fastOptions("")
	opts.DialTimeout = 300 * time.Millisecond
	c, _ := newTestClient(t, opts, Auth{Password: testPassword})
	start := time.Now()
	_, err = c.Run(context.Background(), Target{Name: "wb1", Address: ln.Addr().String(), User: "admin", Fingerprint: "SHA256:" + strings.Repeat("A", 43)})
	elapsed := time.Since(start)
	if !errors.Is(err, ErrDialTimeout) || Classify(err) != "timeout" {
		t.Fatalf("Run error = %v (class %q), want ErrDialTimeout", err, Classify(err))
	}
	if elapsed < opts.DialTimeout || elapsed > 5*time.Second {
		t.Errorf("Run gave up after %v, want about %v", elapsed, opts.DialTimeout)
	}
}

// TestRunPacingFakeClock checks the pacing decisions with a fake clock:
// a second opening to the same host waits MinInterval, another host does
// not wait, and an opening after the interval has passed does not wait.
func TestRunPacingFakeClock(t *testing.T) {
	a := startMMP(t, mmptest.ServerConfig{Password: testPassword})
	b := startMMP(t, mmptest.ServerConfig{Password: testPassword})
	opts := fastOptions(writeKnownHosts(t, a.KnownHostsLine(), b.KnownHostsLine()))
	opts.MinInterval = 2 * time.Second
	c, _ := newTestClient(t, opts, Auth{Password: testPassword})

	clock := time.Date(2024, 3, 6, 9, 0, 0, 0, time.UTC)
	var slept []time.Duration
	c.pacer.now = func() time.Time { return clock }
	c.pacer.sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		clock = clock.Add(d)
		return nil
	}
	steps := []struct {
		srv       *mmptest.Server
		advance   time.Duration // fake time passing before this Run
		wantSleep time.Duration
	}{
		{srv: a, wantSleep: 0},
		{srv: a, advance: 500 * time.Millisecond, wantSleep: 1500 * time.Millisecond},
		{srv: b, wantSleep: 0},
		{srv: a, wantSleep: 2 * time.Second},
		{srv: a, advance: 3 * time.Second, wantSleep: 0},
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		slept = nil
		if _, err := c.Run(context.Background(), Target{Name: "wb", Address: s.srv.Addr(), User: "admin"}); err != nil {
			t.Fatalf("step %d: Run: %v", i, err)
		}
		var total time.Duration
		for _, d := range slept {
			total += d
		}
		if total != s.wantSleep {
			t.Errorf("step %d: slept %v, want %v", i, total, s.wantSleep)
		}
	}
}

// TestRunPacingConcurrent checks, on the real clock, that concurrent Runs
// to one host are paced: the last of n openings cannot start before
// (n-1)*MinInterval have passed. That lower bound is guaranteed by the
// sleeps, so the test cannot flake; the slot arithmetic itself is checked
// with a fake clock in TestPacerConcurrentReservations.
func TestRunPacingConcurrent(t *testing.T) {
	srv := startMMP(t, mmptest.ServerConfig{Password: testPassword})
	opts := fastOptions(writeKnownHosts(t, srv.KnownHostsLine()))
	opts.MinInterval = 150 * time.Millisecond
	c, _ := newTestClient(t, opts, Auth{Password: testPassword})

	const runs = 3
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for range runs {
		wg.Go(func() {
			_, err := c.Run(context.Background(), Target{Name: "wb1", Address: srv.Addr(), User: "admin"})
			errs <- err
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	if got := len(srv.Commands()); got != runs {
		t.Fatalf("server received %d commands, want %d", got, runs)
	}
	if want := (runs - 1) * opts.MinInterval; elapsed < want {
		t.Errorf("%d concurrent Runs finished in %v, pacing requires at least %v", runs, elapsed, want)
	}
}

func TestProbeAndAddKnownHost(t *testing.T) {
	srv := startMMP(t, mmptest.ServerConfig{Password: testPassword})
	khPath := filepath.Join(t.TempDir(), "ssh", "known_hosts") // directory does not exist yet
	c, _ := newTestClient(t, fastOptions(khPath), Auth{Password: testPassword})
	target := Target{Name: "wb1", Address: srv.Addr(), User: "admin"}
	wantFP := ssh.FingerprintSHA256(srv.HostKey())

	pr, err := c.Probe(context.Background(), target)
	if !errors.Is(err, ErrHostKeyUnknown) {
		t.Fatalf("first Probe error = %v, want ErrHostKeyUnknown", err)
	}
	if pr.Fingerprint != wantFP || pr.Known || pr.Authenticated || pr.KeyType != ssh.KeyAlgoED25519 {
		t.Fatalf("first ProbeResult = %+v, want unknown %s key %s, not authenticated", pr, ssh.KeyAlgoED25519, wantFP)
	}
	if n := srv.PasswordAttempts(); n != 0 {
		t.Fatalf("Probe sent the password %d times to an unknown host", n)
	}

	if err := c.AddKnownHost(target, pr.HostKey); err != nil {
		t.Fatalf("AddKnownHost: %v", err)
	}
	st, err := os.Stat(khPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("known_hosts mode = %v, want 0600", st.Mode().Perm())
	}
	content, _ := os.ReadFile(khPath)
	if !strings.HasPrefix(string(content), "|1|") || strings.Contains(string(content), "127.0.0.1") {
		t.Errorf("known_hosts = %q, want one hashed entry", content)
	}

	pr, err = c.Probe(context.Background(), target)
	if err != nil {
		t.Fatalf("second Probe: %v", err)
	}
	if !pr.Known || !pr.Authenticated || pr.Fingerprint != wantFP {
		t.Errorf("second ProbeResult = %+v, want known and authenticated", pr)
	}
	if cmds := srv.Commands(); len(cmds) != 0 {
		t.Errorf("Probe ran commands: %v", cmds)
	}

	// Adding the same key again changes nothing.
	if err := c.AddKnownHost(target, pr.HostKey); err != nil {
		t.Fatalf("second AddKnownHost: %v", err)
	}
	if again, _ := os.ReadFile(khPath); string(again) != string(content) {
		t.Errorf("re-adding a known key changed known_hosts:\n%s", again)
	}
	// A different key for the same host is never written over the old one.
	impostor, _ := newKey(t)
	if err := c.AddKnownHost(target, impostor.PublicKey()); !errors.Is(err, ErrHostKeyChanged) {
		t.Errorf("AddKnownHost(other key) error = %v, want ErrHostKeyChanged", err)
	}
	// Nor is a key that contradicts the target's pin.
	other := startMMP(t, mmptest.ServerConfig{Password: testPassword})
	pinned := Target{Name: "wb2", Address: other.Addr(), User: "admin", Fingerprint: ssh.FingerprintSHA256(impostor.PublicKey())}
	if err := c.AddKnownHost(pinned, other.HostKey()); !errors.Is(err, ErrHostKeyChanged) {
		t.Errorf("AddKnownHost(key contradicting pin) error = %v, want ErrHostKeyChanged", err)
	}
	if again, _ := os.ReadFile(khPath); string(again) != string(content) {
		t.Errorf("a refused key was written to known_hosts:\n%s", again)
	}
}

func TestAddKnownHostAppendsAfterUnterminatedLine(t *testing.T) {
	srv := startMMP(t, mmptest.ServerConfig{Password: testPassword})
	other, _ := newKey(t)
	kh := writeFile(t, "known_hosts", "mmp9.example.com "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other.PublicKey()))), 0o600)
	c, _ := newTestClient(t, fastOptions(kh), Auth{Password: testPassword})
	target := Target{Name: "wb1", Address: srv.Addr(), User: "admin"}
	if err := c.AddKnownHost(target, srv.HostKey()); err != nil {
		t.Fatalf("AddKnownHost: %v", err)
	}
	if _, err := c.Run(context.Background(), target); err != nil {
		t.Fatalf("Run after AddKnownHost: %v", err)
	}
	content, _ := os.ReadFile(kh)
	if lines := strings.Split(strings.TrimSpace(string(content)), "\n"); len(lines) != 2 {
		t.Errorf("known_hosts has %d lines, want 2:\n%s", len(lines), content)
	}
}

func TestAddKnownHostWithoutFile(t *testing.T) {
	c, _ := newTestClient(t, fastOptions(""), Auth{Password: testPassword})
	k, _ := newKey(t)
	if err := c.AddKnownHost(Target{Address: "mmp1:22"}, k.PublicKey()); err == nil {
		t.Error("AddKnownHost without a known_hosts file succeeded")
	}
}

// TestSecretsNeverLeak drives every failure path with a distinctive
// password and passphrase and searches errors and logs for them.
func TestSecretsNeverLeak(t *testing.T) {
	srv := startMMP(t, mmptest.ServerConfig{Password: "another-password"})
	_, priv := newKey(t)
	keyFile := writePrivateKey(t, priv, testPassword)
	logger, logs := testLogger()
	var texts []string

	// A wrong passphrase fails at start-up.
	_, err := NewClient(fastOptions(""), Auth{KeyFile: keyFile, KeyPassphrase: testPassword + "x"}, logger)
	if err == nil {
		t.Fatal("NewClient with a wrong passphrase succeeded")
	}
	texts = append(texts, err.Error())

	auth := Auth{Password: testPassword, KeyFile: keyFile, KeyPassphrase: testPassword}
	c, err := NewClient(fastOptions(writeKnownHosts(t, srv.KnownHostsLine())), auth, logger)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []Target{
		{Name: "auth", Address: srv.Addr(), User: "admin"},
		{Name: "pin", Address: srv.Addr(), User: "admin", Fingerprint: "SHA256:" + strings.Repeat("B", 43)},
		{Name: "refused", Address: freePort(t), User: "admin"},
		{Name: "forbidden", Address: srv.Addr(), User: "admin", Command: "callbridge restart"},
	} {
		res, err := c.Run(context.Background(), target)
		if err == nil {
			t.Fatalf("Run(%s) succeeded", target.Name)
		}
		texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err), fmt.Sprintf("%+v", res))
	}
	texts = append(texts, fmt.Sprintf("%v %+v %#v %s", auth, auth, auth, auth))
	logger.Info("auth", "auth", auth)
	texts = append(texts, logs.String())
	assertNoSecret(t, testPassword, texts...)
}
