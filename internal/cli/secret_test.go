package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPasswordInPasswordEnvIsNotEchoed: an operator who writes the MMP
// password itself into ssh.password_env (or key_passphrase_env, or
// password_file) must get an error naming the key, from check and from
// run, and never see the password printed. Before the fix the error read
// "environment variable <the password> is not set".
func TestPasswordInPasswordEnvIsNotEchoed(t *testing.T) {
	for i, tc := range []struct {
		key, secret, want string
	}{
		// A password that cannot be a variable name: refused at load.
		{"password_env", "s3cret-Mmp pa55word!", "ssh.password_env: must be the name of an environment variable"},
		{"key_passphrase_env", "s3cret-Mmp pa55word!", "ssh.key_passphrase_env: must be the name of an environment variable"},
		// One that could be: refused when read.
		{"password_env", "S3cretPassw0rd", "ssh.password_env names an environment variable that is not set"},
		{"password_file", "S3cretPassw0rd", "ssh.password_file: cannot read the file it names"},
	} {
		// The subtest's name is in its temporary folder's path, which the
		// output shows: it must not hold the secret.
		t.Run(fmt.Sprintf("%s/%d", tc.key, i), func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "leakwatch.yaml")
			yaml := fmt.Sprintf(`state_dir: %q
web:
  listen_address: 127.0.0.1:0
inventory:
  webbridges:
    - name: wb1
      mmp:
        address: 127.0.0.1:1
ssh:
  %s: %q
  key_file: %q
`, filepath.Join(dir, "state"), tc.key, tc.secret, filepath.Join(dir, "absent-key"))
			if tc.key != "key_passphrase_env" {
				yaml = strings.Replace(yaml, "  key_file: ", "  # key_file: ", 1)
			}
			if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{
				{"check", "--config", cfg, "--ssh"},
				{"run", "--config", cfg, "--mode", "enforce"},
				// Observe mode runs on without credentials, and says why.
				{"run", "--config", cfg},
			} {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				var outb, errb bytes.Buffer
				code := Main(ctx, args, &Env{Stdout: &outb, Stderr: &errb, Getenv: func(string) string { return "" }})
				cancel()
				out, errOut := outb.String(), errb.String()
				if args[len(args)-1] == cfg {
					code = 1 // observe mode: only the log line matters
				}
				if code == 0 || !strings.Contains(errOut, tc.want) {
					t.Errorf("%v: exit %d, want a failure with %q\nstdout:\n%s\nstderr:\n%s", args, code, tc.want, out, errOut)
				}
				if strings.Contains(out+errOut, tc.secret) {
					t.Errorf("%v printed the secret:\nstdout:\n%s\nstderr:\n%s", args, out, errOut)
				}
			}
		})
	}
}
