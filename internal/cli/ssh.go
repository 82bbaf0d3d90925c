package cli

import (
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

// checkSSH probes every MMP of the inventory, prints what it found and, when
// accept is set, records unknown host keys after showing them.
func checkSSH(ctx context.Context, env *Env, cfg *config.Config, accept bool) error {
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	client, err := sshClient(cfg, env.Getenv, logger)
	if err != nil {
		return err
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
		switch {
		case err == nil:
			fmt.Fprintf(env.Stdout, "  %s %s: %s %s: host key trusted, authenticated\n", wb.Name, t.Address, res.KeyType, fp)
		case errors.Is(err, mmp.ErrHostKeyUnknown) && accept && res.HostKey != nil:
			fmt.Fprintf(env.Stdout, "  %s %s: %s %s: UNKNOWN host key; adding it to known_hosts as you asked\n", wb.Name, t.Address, res.KeyType, fp)
			if aerr := client.AddKnownHost(t, res.HostKey); aerr != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", wb.Name, aerr))
				continue
			}
			if _, err := client.Probe(ctx, t); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", wb.Name, err))
				fmt.Fprintf(env.Stdout, "    then: %v\n", err)
			} else {
				fmt.Fprintf(env.Stdout, "    then: host key trusted, authenticated\n")
			}
		default:
			failed = append(failed, fmt.Sprintf("%s: %v", wb.Name, err))
			fmt.Fprintf(env.Stdout, "  %s %s: %s %s: %v [%s]\n", wb.Name, t.Address, res.KeyType, fp, err, mmp.Classify(err))
			if errors.Is(err, mmp.ErrHostKeyUnknown) {
				fmt.Fprintf(env.Stdout, "    compare the fingerprint with 'ssh-keygen -lf' on the MMP's key, then rerun with --accept-new-host-keys\n")
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
