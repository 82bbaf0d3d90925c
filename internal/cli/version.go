package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/leakwatch/leakwatch/internal/version"
)

func versionCmd(_ context.Context, env *Env, args []string) error {
	fs := flagSet(env, "version", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return printVersion(env.Stdout)
}

// printVersion prints what `leakwatch version` and `leakwatch --version`
// print.
func printVersion(w io.Writer) error {
	_, err := fmt.Fprintln(w, version.String())
	return err
}
