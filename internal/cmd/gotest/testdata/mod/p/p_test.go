package p

import "testing"

func TestPasses(t *testing.T) {}

func TestSkipsForWantOfSshd(t *testing.T) { t.Skip("sshd is not installed (CI would fail here)") }

func TestFails(t *testing.T) { t.Error("the leak was not proven") }

func TestSub(t *testing.T) {
	t.Run("a", func(t *testing.T) {})
	t.Run("b", func(t *testing.T) { t.Skipf("prometheus is not installed") })
}
