// Package ha makes two (or more) leakwatch instances of one CMS cluster a
// warm standby pair through etcd: every instance observes, exactly one, the
// elected leader, acts.
//
// The election is etcd's own (client/v3/concurrency): each instance holds a
// session (a lease of ha.lease_ttl kept alive by the client) and campaigns
// under <prefix>/election. The leader's term is its election key and that
// key's create revision. Every write to the restart ledger kept under
// <prefix>/ledger/ is a transaction that holds only while that key still
// exists with that revision (Store). A deposed leader, one whose lease
// expired while it was paused or cut off, fails its write of the in-flight
// record, and the actuator sends no command without that write.
//
// Operator requests (restart, reset) go through <prefix>/requests/: any
// instance writes one with a lease that expires it, the leader answers under
// <prefix>/responses/ the same way.
package ha
