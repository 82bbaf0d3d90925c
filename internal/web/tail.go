package web

import (
	"slices"

	"github.com/leakwatch/leakwatch/internal/audit"
)

// auditEntries is how many recent audit entries the status page shows.
const auditEntries = 20

// readAuditTail returns up to n entries from the end of the audit log at
// path, newest first. audit.ReadTail bounds what it reads, so a page that
// refreshes every 10 seconds costs the same however large the log grows.
func readAuditTail(path string, n int) ([]audit.Entry, error) {
	es, err := audit.ReadTail(path, n)
	slices.Reverse(es)
	return es, err
}
