package cli

import (
	"github.com/ksym-dev/ksym/decode"
	"github.com/ksym-dev/ksym/internal/reportjson"
)

// The --json output of decode (docs/decode.md) is shaped by package
// reportjson, which ksym serve shares: one object per report, one per line.

// reportJSON shapes the decoded report res, read from lines first to last
// of file.
func reportJSON(file string, first, last int, res *decode.Result) reportjson.Report {
	return reportjson.Of(file, first, last, res)
}
