package probe

import (
	"bytes"
	"fmt"
	"strings"
)

// Config is a kernel build configuration (.config, /proc/config.gz).
type Config struct {
	values map[string]string
}

// ParseConfig parses a kernel .config: "CONFIG_FOO=value" lines, and
// "# CONFIG_FOO is not set" comments, which record the option as "n". Other
// comments and blank lines are skipped; any other line is an error naming
// its line number (the file is not a kernel configuration).
func ParseConfig(data []byte) (*Config, error) {
	c := &Config{values: make(map[string]string)}
	n := 0
	for line := range bytes.Lines(data) {
		n++
		line = bytes.TrimSuffix(line, []byte("\n"))
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		if strings.HasPrefix(s, "#") {
			if opt, ok := strings.CutSuffix(strings.TrimPrefix(s, "# "), " is not set"); ok && strings.HasPrefix(opt, "CONFIG_") {
				c.values[opt] = "n"
			}
			continue
		}
		opt, val, ok := strings.Cut(s, "=")
		if !ok || !strings.HasPrefix(opt, "CONFIG_") || strings.ContainsAny(opt, " \t") {
			return nil, fmt.Errorf("kernel config line %d: %q is not CONFIG_NAME=value", n, clip(s))
		}
		c.values[opt] = val
	}
	if len(c.values) == 0 {
		return nil, fmt.Errorf("kernel config: no CONFIG_ option")
	}
	return c, nil
}

// Value returns an option's value ("y", "m", "n" for "is not set", a
// string or number as written) and whether the configuration mentions it.
func (c *Config) Value(option string) (string, bool) {
	v, ok := c.values[option]
	return v, ok
}

// Enabled reports whether a boolean option is built in (=y). An option the
// file does not mention is off: Kconfig writes every visible option, and a
// missing one was not selectable in that kernel.
func (c *Config) Enabled(option string) bool { return c.values[option] == "y" }
