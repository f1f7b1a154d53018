package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ksym-dev/ksym/snapshot"
	"github.com/spf13/cobra"
)

const snapshotPushLong = `Upload a snapshot file to a ksym serve server (POST URL/api/v1/snapshots).
The server keeps one snapshot per boot: pushing the same boot again is no
error and stores nothing.

The token is read from --token-file (its first token) or the KSYM_TOKEN
environment variable; it must be a read-write token of the server.`

func (a *app) newSnapshotPushCmd() *cobra.Command {
	var tokenFile string
	c := &cobra.Command{
		Use:     "push URL FILE",
		Short:   "Upload a snapshot to a ksym serve server",
		Long:    snapshotPushLong,
		Example: "  sudo ksym snapshot save -o /tmp/boot.ksnap && KSYM_TOKEN=... ksym snapshot push https://crash.example.com /tmp/boot.ksnap",
		Args:    argsRange(2, 2, "the server's URL and the snapshot file"),
		RunE: func(c *cobra.Command, args []string) error {
			return a.runSnapshotPush(args[0], args[1], tokenFile)
		},
	}
	c.Flags().StringVar(&tokenFile, "token-file", "", "read the token from `FILE` (its first line's first word)")
	return c
}

// pushToken is the token of --token-file, else $KSYM_TOKEN.
func pushToken(tokenFile string) (string, error) {
	if tokenFile == "" {
		return os.Getenv("KSYM_TOKEN"), nil
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		return "", err
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0], nil
	}
	return "", fmt.Errorf("%s: no token in it", tokenFile)
}

func (a *app) runSnapshotPush(url, path, tokenFile string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &exitError{code: ExitUsage, err: fileAdvice(err)}
	}
	if _, err := snapshot.Read(bytes.NewReader(data)); err != nil {
		return usageErrorf("%s: %v", path, err)
	}
	token, err := pushToken(tokenFile)
	if err != nil {
		return usageErrorf("snapshot push: %v", err)
	}
	req, err := http.NewRequest("POST", strings.TrimSuffix(url, "/")+"/api/v1/snapshots", bytes.NewReader(data))
	if err != nil {
		return usageErrorf("snapshot push: %v", err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("snapshot push: %w", err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var ans struct {
		Error    string `json:"error"`
		Created  bool   `json:"created"`
		Snapshot struct {
			ID      string `json:"id"`
			Release string `json:"release"`
			BootID  string `json:"boot_id"`
		} `json:"snapshot"`
	}
	json.Unmarshal(body, &ans)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		msg := ans.Error
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		return &exitError{code: ExitUsage, err: fmt.Errorf("snapshot push: %s: %s", resp.Status, clipEcho(msg))}
	}
	what := "stored"
	switch {
	case !ans.Created && ans.Snapshot.BootID != "":
		what = "already stored (same boot)"
	case !ans.Created: // deduplicated by content
		what = "already stored (same content)"
	}
	fmt.Fprintf(a.stdout, "%s: %s as %s (%s, boot %s)\n", path, what, ans.Snapshot.ID, orUnknown(ans.Snapshot.Release), orUnknown(ans.Snapshot.BootID))
	return nil
}
