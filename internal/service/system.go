package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// DefaultName is the service's name, and its event log source, unless
// `leakwatch service install --name` says otherwise.
const DefaultName = "leakwatch"

// ErrUnsupported is what System's calls return where there is no Windows
// service control manager.
var ErrUnsupported = errors.New("leakwatch service manages a Windows service; on Linux use the systemd unit (config/systemd/leakwatch.service, or the .deb/.rpm package)")

// Spec is a service to install.
type Spec struct {
	Name        string
	DisplayName string
	Description string
	// Exe is the absolute path of leakwatch.exe; Args follow it on the
	// service's command line.
	Exe  string
	Args []string
	// Account runs the service; "" is LocalSystem. A virtual account
	// (NT SERVICE\leakwatch) needs no password.
	Account string
}

// NewSpec returns the spec of the service name that runs exe as
// `leakwatch run --config configFile`. Both paths must be absolute: a
// service starts in the system folder, not where it was installed from.
func NewSpec(name, exe, configFile, account string) (Spec, error) {
	if name == "" {
		return Spec{}, errors.New("the service name must not be empty")
	}
	for what, p := range map[string]string{"the executable": exe, "the config file": configFile} {
		if !filepath.IsAbs(p) {
			return Spec{}, fmt.Errorf("%s path %q is not absolute", what, p)
		}
	}
	return Spec{
		Name:        name,
		DisplayName: "leakwatch (" + name + ")",
		Description: "Watches Cisco Meeting Server Web Bridge 2 for leaked sessions (CSCvt73723), exports them to Prometheus, and restarts a provably leaking Web Bridge.",
		Exe:         exe,
		Args:        []string{"run", "--config", configFile},
		Account:     account,
	}, nil
}

// ServiceFunc is what runs as the service: name is the service's own
// name (its event log source); ready and reloads are RunFunc's.
type ServiceFunc func(ctx context.Context, name string, ready func(), reloads <-chan struct{}) error

// EventLog is an open event log source.
type EventLog interface {
	EventWriter
	Close() error
}

// System is the operating system's service control manager, seen from
// both sides: the operator's commands, and the service's own process.
type System interface {
	// Install creates the service (automatic, delayed start; restarted on
	// failure) and registers its event log source.
	Install(Spec) error
	// Uninstall removes the service and its event log source.
	Uninstall(name string) error
	// Start starts the service and waits until it runs or fails.
	Start(name string, timeout time.Duration) error
	// Stop stops the service and waits until it has stopped.
	Stop(name string, timeout time.Duration) error
	// Reload asks the running service to reload its config.
	Reload(name string) error

	// IsService reports whether the service control manager started this
	// process.
	IsService() (bool, error)
	// Run serves run as the service until the manager stops it.
	Run(run ServiceFunc) error
	// OpenEventLog opens the event log as source.
	OpenEventLog(source string) (EventLog, error)
}

// StopTimeout is how long a stop may take: an SSH restart in flight is
// given time to finish, as systemd's TimeoutStopSec=90s does.
const StopTimeout = 90 * time.Second

// Unsupported is the System of a platform without a service control
// manager: every call but IsService returns ErrUnsupported.
type Unsupported struct{}

func (Unsupported) Install(Spec) error                    { return ErrUnsupported }
func (Unsupported) Uninstall(string) error                { return ErrUnsupported }
func (Unsupported) Start(string, time.Duration) error     { return ErrUnsupported }
func (Unsupported) Stop(string, time.Duration) error      { return ErrUnsupported }
func (Unsupported) Reload(string) error                   { return ErrUnsupported }
func (Unsupported) IsService() (bool, error)              { return false, nil }
func (Unsupported) Run(ServiceFunc) error                 { return ErrUnsupported }
func (Unsupported) OpenEventLog(string) (EventLog, error) { return nil, ErrUnsupported }
