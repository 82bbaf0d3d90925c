//go:build unix

package badinput

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// everyMistake is a config with every kind of mistake an operator makes.
// Each wrong line ends with "# want PHASE KEY": the key its error must
// name, and the phase of `leakwatch check` that reports it:
//
//	U  unknown keys, reported first and alone (a typo must not hide
//	   behind the errors it causes);
//	D  values that cannot be decoded into their type (wrong type, bad
//	   duration), reported together, once no key is unknown;
//	V  values of the right type that are not allowed (bad enum, window,
//	   time zone, CIDR, duplicate host or name, negative or too small
//	   numbers), reported together once everything decodes.
//
// A line ending in "# drop PHASE" goes with the mistake above it: it is
// removed with it. The secret on the ssh.password line must never be
// echoed.
const everyMistake = `# Every kind of mistake at once.
log:
  level: loud                            # want V log.level
  format: xml                            # want V log.format
  colour: true                           # want U log.colour
timezone: Mars/Olympus                   # want V timezone
web:
  listen_address: "9723"                 # want V web.listen_address[0]
inputs:
  files:
    paths:
      - "/var/log/cms/[unclosed"         # want V inputs.files.paths[0]
      - /var/log/cms/*.log
    start_at: middle                     # want V inputs.files.start_at
    poll_interval: 1 sec                 # want D inputs.files.poll_interval
    poll_only: sometimes                 # want D inputs.files.poll_only
    max_line_bytes: 100                  # want V inputs.files.max_line_bytes
  syslog:
    udp_address: localhost               # want V inputs.syslog.udp_address
    allowed_source: [10.0.0.0/8]         # want U inputs.syslog.allowed_source
    allowed_sources:
      - 10.0.0.0/33                      # want V inputs.syslog.allowed_sources[0]
      - 300.1.2.3                        # want V inputs.syslog.allowed_sources[1]
      - 10.1.2.0/24
    max_message_size: 100                # want V inputs.syslog.max_message_size
    max_connections: -1                  # want V inputs.syslog.max_connections
model:
  stale_after: eleven minutes            # want D model.stale_after
  peak_window: 5m
  max_discovered: -3                     # want V model.max_discovered
  session_limit: lots                    # want D model.session_limit
modle: {stale_after: 1m}                 # want U modle
inventory:
  webbridges:
    - name: wb1
      hosts: [cms1]
      session_limit: -1                  # want V inventory.webbridges[0].session_limit
      hots: [cms9]                       # want U inventory.webbridges[0].hots
      mmp:
        address: cms1.example.com
        host_key_fingerprint: "MD5:0a:1b"  # want V inventory.webbridges[0].mmp.host_key_fingerprint
    - name: wb2
      hosts:
        - CMS1                           # want V inventory.webbridges[1].hosts[0]
      mmp:
        command: callbridge restart      # want V inventory.webbridges[1].mmp.command
    - name: wb1                          # want V inventory.webbridges[2].name
      hosts: [cms3]                      # drop V
  callbridges:
    - name: cb1
      hosts: [cms1]
    - name: cb2
      hosts:
        - cms1                           # want V inventory.callbridges[1].hosts[0]
policy:
  mode: sometimes                        # want V policy.mode
  treshold: 20                           # want U policy.treshold
  threshold: 0                           # want V policy.threshold
  sustain: -1h                           # want V policy.sustain
  windows:
    - "Funday 02:00-04:00"               # want V policy.windows[0]
    - "Sat 25:00-26:00"                  # want V policy.windows[1]
    - "Sat 02:00-04:00"
  timezone: Europe/Atlantis              # want V policy.timezone
  max_active_sessions: -1                # want V policy.max_active_sessions
  cooldown: -24h                         # want V policy.cooldown
  max_per_day: 0                         # want V policy.max_per_day
  recover_timeout: soon                  # want D policy.recover_timeout
  emergency_at_limit: perhaps            # want D policy.emergency_at_limit
  flap_max: -1                           # want V policy.flap_max
  flap_period: 7d                        # want D policy.flap_period
ssh:
  password: hunter2-do-not-echo          # want U ssh.password
  password_env: MMP_PASSWORD
  password_file: /etc/leakwatch/mmp      # want V ssh.password_file
  user: {name: admin}                    # want D ssh.user
  dial_timeout: 0s                       # want V ssh.dial_timeout
  min_interval: -2s                      # want V ssh.min_interval
audit:
  file: [a.jsonl, b.jsonl]               # want D audit.file
`

var wantRe = regexp.MustCompile(`#\s*(?:want ([UDV]) (\S+)|drop ([UDV]))\s*$`)

// mistake is an error `leakwatch check` must print.
type mistake struct {
	line int
	key  string
}

// configPhase returns everyMistake without the lines of the phases in
// drop, and the mistakes of phase it must report.
func configPhase(drop string, phase byte) (string, []mistake) {
	var b strings.Builder
	var want []mistake
	n := 0
	for line := range strings.Lines(everyMistake) {
		m := wantRe.FindStringSubmatch(line)
		if m != nil && strings.Contains(drop, m[1]+m[3]) {
			continue
		}
		n++
		b.WriteString(line)
		if m != nil && m[1] != "" && m[1][0] == phase {
			want = append(want, mistake{n, m[2]})
		}
	}
	return b.String(), want
}

var errLineRe = regexp.MustCompile(`^(.+?):(\d+): (\S+): (.+)$`)

// TestConfigWithEveryKindOfMistake runs `leakwatch check` on a config with
// every kind of mistake. It must exit 1 and answer every mistake with a
// line "file:line: key: message", and nothing else. leakwatch reports in
// three phases (see everyMistake), so the test checks the full file, then
// the file with its unknown keys fixed, then also with its undecodable
// values fixed; with every marked line removed, the config is valid.
func TestConfigWithEveryKindOfMistake(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		drop  string
		phase byte
	}{
		{"unknown-keys", "", 'U'},
		{"wrong-types-and-durations", "U", 'D'},
		{"values-not-allowed", "UD", 'V'},
		{"all-fixed", "UDV", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text, want := configPhase(tc.drop, tc.phase)
			path := filepath.Join(dir, tc.name+".yml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, "check", "--config", path)
			out := r.stdout + r.stderr
			if strings.Contains(out, "hunter2") {
				t.Errorf("check echoed the password put in the config:\n%s", out)
			}
			if tc.phase == 0 {
				if r.code != 0 || !strings.Contains(r.stdout, "is valid") {
					t.Fatalf("the config with every mistake removed: exit %d, want 0 and \"is valid\":\n%s", r.code, out)
				}
				return
			}
			if r.code != 1 {
				t.Errorf("check exited %d, want 1", r.code)
			}
			if strings.Contains(r.stdout, "is valid") {
				t.Errorf("check says the config is valid:\n%s", r.stdout)
			}

			var got []mistake
			for line := range strings.Lines(strings.TrimPrefix(r.stderr, "leakwatch check: ")) {
				line = strings.TrimRight(line, "\n")
				if line == "" {
					continue
				}
				m := errLineRe.FindStringSubmatch(line)
				if m == nil || m[1] != path {
					t.Errorf("error line without %s:LINE: KEY: MESSAGE: %q", path, line)
					continue
				}
				n, _ := strconv.Atoi(m[2])
				got = append(got, mistake{n, m[3]})
			}
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("no error for %s at line %d (%q)", w.key, w.line, strings.Split(text, "\n")[w.line-1])
				}
			}
			for _, g := range got {
				if !slices.Contains(want, g) {
					t.Errorf("unexpected error for %s at line %d", g.key, g.line)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d error lines, want %d:\n%s", len(got), len(want), r.stderr)
			}
			if t.Failed() {
				t.Logf("config:\n%s", numbered(text))
			} else {
				t.Logf("%d mistakes answered, e.g. %s", len(got), firstLine(r.stderr))
			}
		})
	}
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		fmt.Fprintf(&b, "%3d  %s\n", i+1, l)
	}
	return b.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
