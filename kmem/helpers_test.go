package kmem

import (
	"testing"

	"github.com/ksym-dev/ksym/machine"
)

func mustFS(t *testing.T, root string) machine.FS {
	t.Helper()
	fs, err := machine.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}
