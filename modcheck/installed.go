package modcheck

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ksym-dev/ksym/kmod"
)

// InstalledVermagic returns the kernel's vermagic as the modules installed
// for it carry it (they were built with the kernel): the vermagic of the
// first module listed in dir/modules.dep (dir is /lib/modules/<release>),
// and that module's path. It fails when none can be read or when its
// release is not release.
func InstalledVermagic(dir, release string) (vermagic, from string, err error) {
	f, err := os.Open(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		rel, _, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		p := rel
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, rel)
		}
		m, err := kmod.Read(p)
		if err != nil || m.Info.Vermagic == "" {
			continue
		}
		if r, _, _ := strings.Cut(m.Info.Vermagic, " "); r != release {
			return "", "", fmt.Errorf("%s has vermagic %q, not of release %s", p, m.Info.Vermagic, release)
		}
		return m.Info.Vermagic, p, nil
	}
	if err := sc.Err(); err != nil {
		return "", "", err
	}
	return "", "", fmt.Errorf("no readable module with a vermagic in %s", filepath.Join(dir, "modules.dep"))
}
