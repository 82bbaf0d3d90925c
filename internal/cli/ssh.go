package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/leakwatch/leakwatch/internal/actuator"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/mmp"
)

// sshClient builds the MMP client from the config. Secrets are read here,
// from the variable or file the config names.
func sshClient(cfg *config.Config, getenv func(string) string, logger *slog.Logger) (*mmp.Client, error) {
	auth := mmp.Auth{
		PasswordEnv:      cfg.SSH.PasswordEnv,
		PasswordFile:     cfg.SSH.PasswordFile,
		KeyFile:          cfg.SSH.KeyFile,
		KeyPassphraseEnv: cfg.SSH.KeyPassphraseEnv,
		UseAgent:         cfg.SSH.UseAgent,
		AgentSocket:      getenv("SSH_AUTH_SOCK"),
	}
	if err := auth.Resolve(); err != nil {
		return nil, fmt.Errorf("ssh credentials: %w", err)
	}
	minInterval := cfg.SSH.MinInterval
	if minInterval == 0 {
		minInterval = -1 // an explicit 0s disables pacing
	}
	return mmp.NewClient(mmp.Options{
		KnownHostsFile: cfg.SSH.KnownHosts,
		DialTimeout:    cfg.SSH.DialTimeout,
		CommandTimeout: cfg.SSH.CommandTimeout,
		MinInterval:    minInterval,
	}, auth, logger)
}

func targetOf(wb config.WebBridge) mmp.Target {
	return mmp.Target{Name: wb.Name, Address: wb.MMP.Address, User: wb.MMP.User,
		Command: wb.MMP.Command, Fingerprint: wb.MMP.HostKeyFingerprint}
}

// sshRestarter restarts Web Bridges through their MMPs. It implements
// actuator.Restarter.
type sshRestarter struct {
	client  *mmp.Client
	targets map[string]mmp.Target
}

func newSSHRestarter(cfg *config.Config, client *mmp.Client) *sshRestarter {
	r := &sshRestarter{client: client, targets: map[string]mmp.Target{}}
	for _, wb := range cfg.Inventory.WebBridges {
		if wb.MMP.Address != "" {
			r.targets[wb.Name] = targetOf(wb)
		}
	}
	return r
}

func (r *sshRestarter) Restart(ctx context.Context, bridge string) (string, error) {
	t, ok := r.targets[bridge]
	if !ok {
		return "", fmt.Errorf("web bridge %s has no mmp.address in the inventory: %w", bridge, actuator.ErrNotSent)
	}
	res, err := r.client.Run(ctx, t)
	if err != nil {
		if mmp.NotSent(err) {
			return res.Output, fmt.Errorf("%s [%s]: %w", err, mmp.Classify(err), actuator.ErrNotSent)
		}
		return res.Output, fmt.Errorf("%s [%s]", err, mmp.Classify(err))
	}
	return res.Output, nil
}

// trustOptions say how `check --ssh` may add unknown host keys: ask shows
// each one and asks on stdin, accept holds the fingerprints given on the
// command line by web bridge name. Either way the key recorded is the one
// the operator saw or named, from the connection that presented it.
type trustOptions struct {
	ask    bool
	accept map[string]string
}

// checkSSH probes every MMP of the inventory, prints what it found and
// records the unknown host keys that the operator accepts: by fingerprint
// on the command line, or by answering yes to the fingerprint shown.
func checkSSH(ctx context.Context, env *Env, cfg *config.Config, trust trustOptions) error {
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := sshClient(cfg, env.Getenv, logger)
	if err != nil {
		return err
	}
	var answers *bufio.Reader
	if env.Stdin != nil {
		answers = bufio.NewReader(env.Stdin)
	}
	fmt.Fprintf(env.Stdout, "\nSSH (known_hosts %s):\n", cfg.SSH.KnownHosts)
	var failed []string
	n := 0
	for _, wb := range cfg.Inventory.WebBridges {
		if wb.MMP.Address == "" {
			fmt.Fprintf(env.Stdout, "  %s: no mmp.address, skipped\n", wb.Name)
			continue
		}
		n++
		t := targetOf(wb)
		res, err := client.Probe(ctx, t)
		fp := res.Fingerprint
		if fp == "" {
			fp = "(no host key seen)"
		}
		given, named := trust.accept[wb.Name]
		fmt.Fprintf(env.Stdout, "  %s %s: %s %s: ", wb.Name, t.Address, res.KeyType, fp)
		switch {
		case err == nil && named && given != res.Fingerprint:
			failed = append(failed, fmt.Sprintf("%s: known_hosts trusts %s, but --accept-host-key gave %s", wb.Name, res.Fingerprint, given))
			fmt.Fprintf(env.Stdout, "host key trusted, authenticated; but it is not the %s you gave: check which is right\n", given)
		case err == nil:
			fmt.Fprintf(env.Stdout, "host key trusted, authenticated\n")
		case errors.Is(err, mmp.ErrHostKeyUnknown) && res.HostKey != nil && (named || trust.ask):
			if named && given != res.Fingerprint {
				failed = append(failed, fmt.Sprintf("%s: presents host key %s, not the %s you accepted; nothing recorded", wb.Name, res.Fingerprint, given))
				fmt.Fprintf(env.Stdout, "UNKNOWN host key, and NOT the %s you accepted: not recorded. Something other than the MMP you checked may be answering (a man in the middle, or a reinstalled MMP): find out before trusting it\n", given)
				continue
			}
			if named {
				fmt.Fprintf(env.Stdout, "UNKNOWN host key with the fingerprint you accepted; adding it to known_hosts\n")
			} else {
				fmt.Fprintf(env.Stdout, "UNKNOWN host key. Compare it with 'ssh-keygen -lf' of the MMP's key.\n    Add exactly this key to known_hosts? Type yes to add it: ")
				if !confirmed(answers) {
					failed = append(failed, fmt.Sprintf("%s: host key %s not accepted", wb.Name, res.Fingerprint))
					fmt.Fprintf(env.Stdout, "\n    not added\n")
					continue
				}
			}
			// The key of this very connection: the one just shown, or the
			// one whose fingerprint the operator named. The target carries
			// that fingerprint as a pin, so AddKnownHost refuses any other.
			pinned := t
			pinned.Fingerprint = res.Fingerprint
			if aerr := client.AddKnownHost(pinned, res.HostKey); aerr != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", wb.Name, aerr))
				fmt.Fprintf(env.Stdout, "    not added: %v\n", aerr)
				continue
			}
			if _, err := client.Probe(ctx, t); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", wb.Name, err))
				fmt.Fprintf(env.Stdout, "    added; then: %v [%s]\n", err, mmp.Classify(err))
			} else {
				fmt.Fprintf(env.Stdout, "    added; then: host key trusted, authenticated\n")
			}
		default:
			failed = append(failed, fmt.Sprintf("%s: %v", wb.Name, err))
			fmt.Fprintf(env.Stdout, "%v [%s]\n", err, mmp.Classify(err))
			if errors.Is(err, mmp.ErrHostKeyUnknown) {
				fmt.Fprintf(env.Stdout, "    compare the fingerprint with 'ssh-keygen -lf' of the MMP's key, then rerun with --accept-host-key %s=%s (or --accept-new-host-keys to confirm each key shown)\n", wb.Name, res.Fingerprint)
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(env.Stdout, "  no web bridge in the inventory has an mmp.address")
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d MMPs failed the check:\n  %s", len(failed), n, strings.Join(failed, "\n  "))
	}
	return nil
}

// confirmed reads one answer line and reports whether it is "yes". No
// stdin, or its end, is a no.
func confirmed(r *bufio.Reader) bool {
	if r == nil {
		return false
	}
	line, err := r.ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(line), "yes")
}
