package serve_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ksym-dev/ksym/serve"
	"github.com/ksym-dev/ksym/store/local"
)

// BenchmarkDecodeWarm decodes a real oops through the handler with its
// boot's snapshot stored and its table already parsed (a warm store): the
// cost of one POST /api/v1/decode. The same log each time: after the
// first, the store finds the report stored and writes nothing (about 0.6 ms
// and 530 allocations per decode on this 2-core VM).
func BenchmarkDecodeWarm(b *testing.B) {
	st, err := local.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s, err := serve.New(serve.Config{Store: st, Tokens: map[string]serve.Role{writeToken: serve.Writer}})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	post := func(path string, body []byte, token string) int {
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.RemoteAddr = "127.0.0.1:1"
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if code := post("/api/v1/snapshots", snapshots(b)["run2-B"], writeToken); code != http.StatusCreated {
		b.Fatalf("push: %d", code)
	}
	log := fixtureLogB(b)
	if code := post("/api/v1/decode", log, ""); code != http.StatusOK {
		b.Fatalf("decode: %d", code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if code := post("/api/v1/decode", log, ""); code != http.StatusOK {
			b.Fatalf("decode: %d", code)
		}
	}
}
