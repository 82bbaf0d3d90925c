package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/mmp"
)

func checkCmd(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "check", "")
	fs.String("config", "", "config file to check (default: built-in defaults)")
	ssh := fs.Bool("ssh", false, "also connect to every MMP: check its host key and authenticate, run nothing")
	ask := fs.Bool("accept-new-host-keys", false, "with --ssh: show each unknown host key and ask on stdin whether to add exactly that key to known_hosts")
	acceptKeys := fs.StringArray("accept-host-key", nil, "with --ssh: `NAME=SHA256:...` adds web bridge NAME's unknown host key to known_hosts only if it has this fingerprint (as ssh-keygen -lf prints it on the MMP); repeatable")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*ask || len(*acceptKeys) > 0) && !*ssh {
		return &usageError{"--accept-new-host-keys and --accept-host-key need --ssh"}
	}
	cfg, err := loadConfig(fs)
	if err != nil {
		return err
	}
	accept, err := parseAcceptHostKeys(cfg, *acceptKeys)
	if err != nil {
		return err
	}
	printInventory(env, cfg)
	if *ssh {
		return checkSSH(ctx, env, cfg, trustOptions{ask: *ask, accept: accept})
	}
	return nil
}

// parseAcceptHostKeys reads the --accept-host-key values into fingerprints
// by web bridge name; each must name a bridge with an MMP, once.
func parseAcceptHostKeys(cfg *config.Config, vals []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vals {
		name, fp, ok := strings.Cut(v, "=")
		if !ok {
			return nil, &usageError{fmt.Sprintf("--accept-host-key %q: want NAME=SHA256:... (a web bridge name and its MMP's host key fingerprint)", v)}
		}
		if err := mmp.ValidateFingerprint(fp); err != nil {
			return nil, &usageError{fmt.Sprintf("--accept-host-key %s: %v", name, err)}
		}
		i := slices.IndexFunc(cfg.Inventory.WebBridges, func(wb config.WebBridge) bool { return wb.Name == name })
		switch {
		case i < 0:
			return nil, &usageError{fmt.Sprintf("--accept-host-key %s: no web bridge of that name in the inventory", name)}
		case cfg.Inventory.WebBridges[i].MMP.Address == "":
			return nil, &usageError{fmt.Sprintf("--accept-host-key %s: that web bridge has no mmp.address", name)}
		case out[name] != "":
			return nil, &usageError{fmt.Sprintf("--accept-host-key %s: given twice", name)}
		}
		out[name] = strings.TrimRight(fp, "=")
	}
	return out, nil
}

func printInventory(env *Env, cfg *config.Config) {
	w := env.Stdout
	src := cfg.File
	if src == "" {
		src = "built-in defaults"
	}
	fmt.Fprintf(w, "config %s is valid\n\n", src)
	inv := cfg.Inventory
	if len(inv.WebBridges) == 0 && len(inv.CallBridges) == 0 {
		fmt.Fprintf(w, "no inventory: components are discovered from the hostnames of their stats lines (at most %d)\n", cfg.Model.MaxDiscovered)
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ROLE\tNAME\tSYSLOG HOSTS\tLIMIT\tMMP")
		for _, wb := range inv.WebBridges {
			mmp := "-"
			if wb.MMP.Address != "" {
				mmp = fmt.Sprintf("%s@%s (%q)", wb.MMP.User, wb.MMP.Address, wb.MMP.Command)
			}
			fmt.Fprintf(tw, "webbridge\t%s\t%s\t%d\t%s\n", wb.Name, joinOr(hostsOr(wb.Hosts, wb.Name), "-"), wb.SessionLimit, mmp)
		}
		for _, cb := range inv.CallBridges {
			fmt.Fprintf(tw, "callbridge\t%s\t%s\t-\t-\n", cb.Name, joinOr(hostsOr(cb.Hosts, cb.Name), "-"))
		}
		tw.Flush()
		if len(inv.WebBridges) > 0 {
			fmt.Fprintln(w, "web bridge stats from hosts not listed: unlisted, left out of the sums")
		} else {
			fmt.Fprintf(w, "web bridges are discovered (at most %d); one silent for %s leaves the sums\n", cfg.Model.MaxDiscovered, cfg.Model.ForgetAfter)
		}
		if len(inv.CallBridges) > 0 {
			fmt.Fprintln(w, "call bridge stats from hosts not listed: unlisted, every proof withheld while one reports")
		} else {
			fmt.Fprintf(w, "call bridges are discovered (at most %d) and never leave on their own\n", cfg.Model.MaxDiscovered)
		}
	}
	if len(inv.Ignore) > 0 {
		fmt.Fprintf(w, "ignored hosts (lines counted and dropped): %s\n", strings.Join(inv.Ignore, ", "))
	}
	p := cfg.Policy
	fmt.Fprintf(w, "\npolicy: mode %s; restart at a proven leak >= %d sustained %s; windows %s (%s); at most %d CMA sessions; cooldown %s; %d per day\n",
		p.Mode, p.Threshold, p.Sustain, joinOr(p.Windows, "none (never restarts)"), p.Timezone, p.MaxActiveSessions, p.Cooldown, p.MaxPerDay)
	var inputs []string
	for _, g := range cfg.Inputs.Files.Paths {
		inputs = append(inputs, "file "+g)
	}
	if a := cfg.Inputs.Syslog.UDPAddress; a != "" {
		inputs = append(inputs, "syslog udp "+a)
	}
	if a := cfg.Inputs.Syslog.TCPAddress; a != "" {
		inputs = append(inputs, "syslog tcp "+a)
	}
	fmt.Fprintf(w, "inputs: %s\n", joinOr(inputs, "none"))
	fmt.Fprintf(w, "listen: %s; state: %s\n", strings.Join(cfg.Web.ListenAddresses, ", "), cfg.StateDir)
}

func hostsOr(hosts []string, name string) []string {
	if len(hosts) == 0 {
		return []string{strings.ToLower(name)}
	}
	return hosts
}
