package mmp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAuthResolve(t *testing.T) {
	t.Setenv("LW_TEST_PW", testPassword)
	t.Setenv("LW_TEST_EMPTY", "")
	t.Setenv("LW_TEST_PASSPHRASE", "phrase-"+testPassword)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(testPassword+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		in             Auth
		wantPassword   string
		wantPassphrase string
		wantErr        string // substring; "" means success
	}{
		{name: "env", in: Auth{PasswordEnv: "LW_TEST_PW"}, wantPassword: testPassword},
		{name: "file, CRLF stripped", in: Auth{PasswordFile: pwFile}, wantPassword: testPassword},
		{name: "already resolved is kept", in: Auth{Password: "given", PasswordEnv: "LW_TEST_PW"}, wantPassword: "given"},
		{name: "passphrase env", in: Auth{KeyPassphraseEnv: "LW_TEST_PASSPHRASE"}, wantPassphrase: "phrase-" + testPassword},
		{name: "both sources", in: Auth{PasswordEnv: "LW_TEST_PW", PasswordFile: pwFile}, wantErr: "both set"},
		{name: "unset env", in: Auth{PasswordEnv: "LW_TEST_UNSET_9c1"}, wantErr: "ssh.password_env names an environment variable that is not set"},
		{name: "empty env", in: Auth{PasswordEnv: "LW_TEST_EMPTY"}, wantErr: "ssh.password_env names an environment variable that is empty"},
		{name: "empty file", in: Auth{PasswordFile: emptyFile}, wantErr: "ssh.password_file: " + emptyFile + " is empty"},
		{name: "missing file", in: Auth{PasswordFile: filepath.Join(dir, "absent")}, wantErr: "ssh.password_file: open " + filepath.Join(dir, "absent")},
		{name: "unset passphrase env", in: Auth{KeyPassphraseEnv: "LW_TEST_UNSET_9c1"}, wantErr: "reading key passphrase: ssh.key_passphrase_env names"},
		// The password itself where its variable's or file's name belongs
		// must never be printed back.
		{name: "password in password_env", in: Auth{PasswordEnv: testPassword}, wantErr: "ssh.password_env names an environment variable that is not set"},
		{name: "password in key_passphrase_env", in: Auth{KeyPassphraseEnv: testPassword}, wantErr: "ssh.key_passphrase_env names"},
		{name: "password in password_file", in: Auth{PasswordFile: testPassword}, wantErr: "ssh.password_file: cannot read the file it names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.in
			err := a.Resolve()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve error = %v, want one containing %q", err, tt.wantErr)
				}
				assertNoSecret(t, testPassword, err.Error())
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if a.Password != tt.wantPassword || a.KeyPassphrase != tt.wantPassphrase {
				t.Errorf("resolved password %q passphrase %q, want %q %q", a.Password, a.KeyPassphrase, tt.wantPassword, tt.wantPassphrase)
			}
		})
	}
}

func TestNewClientRejects(t *testing.T) {
	_, priv := newKey(t)
	encrypted := writePrivateKey(t, priv, testPassword)
	garbage := writeFile(t, "garbage", "not a key", 0o600)
	t.Setenv("SSH_AUTH_SOCK", "")
	tests := []struct {
		name    string
		opts    Options
		auth    Auth
		wantErr string
	}{
		{name: "no method", auth: Auth{}, wantErr: "no SSH authentication"},
		{name: "encrypted key without passphrase", auth: Auth{KeyFile: encrypted}, wantErr: "encrypted and no passphrase"},
		{name: "wrong passphrase", auth: Auth{KeyFile: encrypted, KeyPassphrase: testPassword + "-wrong"}, wantErr: "decrypting key file"},
		{name: "not a key", auth: Auth{KeyFile: garbage}, wantErr: "parsing key file"},
		{name: "missing key", auth: Auth{KeyFile: garbage + ".absent"}, wantErr: "reading key file"},
		{name: "agent without socket", auth: Auth{UseAgent: true}, wantErr: "SSH_AUTH_SOCK"},
		{name: "negative timeout", opts: Options{DialTimeout: -1}, auth: Auth{Password: testPassword}, wantErr: "negative"},
		{name: "known_hosts without a valid line", opts: Options{KnownHostsFile: garbage}, auth: Auth{Password: testPassword}, wantErr: "known_hosts"},
		{name: "known_hosts is a directory", opts: Options{KnownHostsFile: t.TempDir()}, auth: Auth{Password: testPassword}, wantErr: "known_hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := testLogger()
			_, err := NewClient(tt.opts, tt.auth, logger)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewClient error = %v, want one containing %q", err, tt.wantErr)
			}
			assertNoSecret(t, testPassword, err.Error(), logs.String())
		})
	}
}

func TestAuthRedacted(t *testing.T) {
	a := Auth{Password: testPassword, KeyFile: "/etc/leakwatch/id_ed25519", KeyPassphrase: testPassword, UseAgent: true}
	logger, logs := testLogger()
	logger.Info("config", "auth", a, "authptr", &a)
	texts := []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a), fmt.Sprintf("%v", &a), logs.String()}
	assertNoSecret(t, testPassword, texts...)
	if s := a.String(); !strings.Contains(s, "password=<redacted>") || !strings.Contains(s, "/etc/leakwatch/id_ed25519") || !strings.Contains(s, "agent") {
		t.Errorf("String() = %q, want the methods named", s)
	}
}

func TestNormalizeAddress(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "mmp1.example.com", want: "mmp1.example.com:22"},
		{in: "mmp1.example.com:2222", want: "mmp1.example.com:2222"},
		{in: "10.0.0.5", want: "10.0.0.5:22"},
		{in: "::1", want: "[::1]:22"},
		{in: "[fe80::1]", want: "[fe80::1]:22"},
		{in: "[fe80::1]:2022", want: "[fe80::1]:2022"},
		{in: "mmp1:", want: "mmp1:22"},
		{in: "", wantErr: "empty"},
		{in: ":22", wantErr: "no host"},
	}
	for _, tt := range tests {
		got, err := normalizeAddress(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("normalizeAddress(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("normalizeAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestValidateFingerprint(t *testing.T) {
	good := "SHA256:" + strings.Repeat("a", 43)
	tests := []struct {
		in string
		ok bool
	}{
		{good, true},
		{good + "=", true},
		{"MD5:aa:bb", false},
		{strings.Repeat("a", 43), false},
		{"SHA256:short", false},
		{"sha256:" + strings.Repeat("a", 43), false},
	}
	for _, tt := range tests {
		if err := ValidateFingerprint(tt.in); (err == nil) != tt.ok {
			t.Errorf("ValidateFingerprint(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
