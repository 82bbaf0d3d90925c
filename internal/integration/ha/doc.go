// Package ha holds integration tests only: two real `leakwatch run`
// processes of one cluster form a warm standby pair through a real etcd on
// loopback, and restart a leaking Web Bridge through a fake MMP that records
// every command. Killing, pausing and cutting them off from etcd must never
// make two instances act, nor repeat a restart inside its cooldown.
package ha
