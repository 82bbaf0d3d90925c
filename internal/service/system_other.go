//go:build !windows

package service

import "time"

// Native returns this system's service control manager: none here.
func Native() System { return unsupported{} }

type unsupported struct{}

func (unsupported) Install(Spec) error                    { return ErrUnsupported }
func (unsupported) Uninstall(string) error                { return ErrUnsupported }
func (unsupported) Start(string, time.Duration) error     { return ErrUnsupported }
func (unsupported) Stop(string, time.Duration) error      { return ErrUnsupported }
func (unsupported) IsService() (bool, error)              { return false, nil }
func (unsupported) Run(ServiceFunc) error                 { return ErrUnsupported }
func (unsupported) OpenEventLog(string) (EventLog, error) { return nil, ErrUnsupported }
