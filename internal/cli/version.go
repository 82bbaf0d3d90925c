package cli

import (
	"context"
	"fmt"

	"github.com/leakwatch/leakwatch/internal/version"
)

func versionCmd(_ context.Context, env *Env, args []string) error {
	fs := flagSet(env, "version", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, err := fmt.Fprintln(env.Stdout, version.String())
	return err
}
