// Command dashgen writes leakwatch's Grafana dashboard,
// dashboards/cms-webbridge-leaks.json, from its Go definition in
// internal/grafana. Run it from the repository root after editing panels:
//
//	go run ./cmd/dashgen [-out FILE]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/leakwatch/leakwatch/internal/grafana"
)

func main() {
	out := flag.String("out", grafana.File, "file to write")
	flag.Parse()
	b, err := grafana.JSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashgen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "dashgen:", err)
		os.Exit(1)
	}
}
