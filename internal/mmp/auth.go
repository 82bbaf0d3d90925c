package mmp

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Auth holds the credentials for the MMP. The configuration names where a
// secret lives (PasswordEnv, PasswordFile, KeyPassphraseEnv), never the
// secret itself; Resolve reads them. Auth redacts its secrets when
// formatted or logged, and no error built by this package contains them.
type Auth struct {
	// Password is the MMP password. Leave it empty and set PasswordEnv or
	// PasswordFile to have Resolve fill it in.
	Password string
	// PasswordEnv names an environment variable holding the password.
	PasswordEnv string
	// PasswordFile is a file whose content (minus one trailing newline) is
	// the password.
	PasswordFile string
	// KeyFile is an OpenSSH or PEM private key file for public key
	// authentication.
	KeyFile string
	// KeyPassphrase decrypts KeyFile. Leave it empty and set
	// KeyPassphraseEnv to have Resolve fill it in.
	KeyPassphrase string
	// KeyPassphraseEnv names an environment variable holding the passphrase.
	KeyPassphraseEnv string
	// UseAgent enables keys from a running ssh-agent.
	UseAgent bool
	// AgentSocket is the agent's unix socket; empty means $SSH_AUTH_SOCK.
	AgentSocket string
}

// Resolve fills Password and KeyPassphrase from the environment variable
// or file that Auth names. A secret already set is kept, so Resolve may be
// called more than once. Naming two sources for one secret, an unset or
// empty variable, and an empty file are errors. The errors name the config
// key (ssh.password_env, ...), never its value: an operator who put the
// password itself where its variable's name belongs must not see it
// printed. A file's path is shown only when it is absolute.
func (a *Auth) Resolve() error {
	if a.PasswordEnv != "" && a.PasswordFile != "" {
		return errors.New("ssh.password_env and ssh.password_file are both set; choose one")
	}
	if a.Password == "" {
		switch {
		case a.PasswordEnv != "":
			v, err := secretFromEnv("ssh.password_env", a.PasswordEnv)
			if err != nil {
				return fmt.Errorf("reading MMP password: %w", err)
			}
			a.Password = v
		case a.PasswordFile != "":
			v, err := secretFromFile("ssh.password_file", a.PasswordFile)
			if err != nil {
				return fmt.Errorf("reading MMP password: %w", err)
			}
			a.Password = v
		}
	}
	if a.KeyPassphrase == "" && a.KeyPassphraseEnv != "" {
		v, err := secretFromEnv("ssh.key_passphrase_env", a.KeyPassphraseEnv)
		if err != nil {
			return fmt.Errorf("reading key passphrase: %w", err)
		}
		a.KeyPassphrase = v
	}
	return nil
}

func secretFromEnv(key, name string) (string, error) {
	v, ok := os.LookupEnv(name)
	switch {
	case !ok:
		return "", fmt.Errorf("%s names an environment variable that is not set (the name is not shown, in case it is the secret itself: %s takes the variable's name, not the secret)", key, key)
	case v == "":
		return "", fmt.Errorf("%s names an environment variable that is empty", key)
	}
	return v, nil
}

func secretFromFile(key, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		// os errors carry the path and the cause, never the content; the
		// path is shown only when absolute: a relative one may be the
		// secret itself, put where its file's name belongs.
		var pe *fs.PathError
		if !filepath.IsAbs(path) && errors.As(err, &pe) {
			return "", fmt.Errorf("%s: cannot read the file it names (a relative path, not shown in case it is the secret itself): %w", key, pe.Err)
		}
		return "", fmt.Errorf("%s: %w", key, err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	s = strings.TrimSuffix(s, "\r")
	if s == "" {
		if filepath.IsAbs(path) {
			return "", fmt.Errorf("%s: %s is empty", key, path)
		}
		return "", fmt.Errorf("%s: the file it names is empty", key)
	}
	return s, nil
}

// String describes the configured methods with secrets redacted.
func (a Auth) String() string {
	var parts []string
	if a.Password != "" || a.PasswordEnv != "" || a.PasswordFile != "" {
		parts = append(parts, "password=<redacted>")
	}
	if a.KeyFile != "" {
		parts = append(parts, "key_file="+a.KeyFile)
	}
	if a.UseAgent {
		parts = append(parts, "agent")
	}
	return "Auth{" + strings.Join(parts, " ") + "}"
}

// GoString redacts secrets from %#v.
func (a Auth) GoString() string { return a.String() }

// LogValue redacts secrets when an Auth is logged with slog.
func (a Auth) LogValue() slog.Value { return slog.StringValue(a.String()) }

// loadSigner parses a private key file, decrypting it with passphrase when
// the key is encrypted.
func loadSigner(path, passphrase string) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key file: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return signer, nil
	case errors.As(err, &missing):
		if passphrase == "" {
			return nil, fmt.Errorf("key file %s is encrypted and no passphrase was given", path)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(passphrase))
		if err != nil {
			// The x509/bcrypt errors never echo the passphrase.
			return nil, fmt.Errorf("decrypting key file %s: %w", path, err)
		}
		return signer, nil
	default:
		return nil, fmt.Errorf("parsing key file %s: %w", path, err)
	}
}

// errKbdRejected marks a keyboard-interactive exchange that this client
// cannot or will not answer; it is classified as ErrAuth.
var errKbdRejected = errors.New("keyboard-interactive prompt not answered")

// passwordMethods returns the password and keyboard-interactive methods
// for one connection. The password is sent at most once per connection,
// by whichever method the server takes first: a rejected password is not
// retried through keyboard-interactive, so a wrong password counts one
// failure against lock-out policies, not two.
func passwordMethods(password string) []ssh.AuthMethod {
	sent := false
	pw := ssh.PasswordCallback(func() (string, error) {
		sent = true
		return password, nil
	})
	kbd := ssh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
		switch {
		case len(questions) == 0:
			// An informational round; the server expects an empty reply.
			return nil, nil
		case sent:
			return nil, fmt.Errorf("%w: password rejected (the server asked again after it was sent)", errKbdRejected)
		case len(questions) != 1 || echos[0]:
			return nil, fmt.Errorf("%w: %d prompt(s), expected one hidden password prompt", errKbdRejected, len(questions))
		}
		sent = true
		return []string{password}, nil
	})
	return []ssh.AuthMethod{pw, kbd}
}

// agentSigners returns the keys of the ssh-agent at socket and the agent
// connection, which the caller closes once authentication is over.
func agentSigners(socket string, timeout time.Duration) ([]ssh.Signer, net.Conn, error) {
	conn, err := net.DialTimeout("unix", socket, timeout)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to ssh-agent: %w", err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("listing ssh-agent keys: %w", err)
	}
	return signers, conn, nil
}
