package gateway_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/nova-social/nova/internal/platform/domains"
)

// TestInternalErrorsRevealNothing breaks the database under the services:
// clients get INTERNAL with a generic message, never driver text.
func TestInternalErrorsRevealNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("broken")
	// A second session of a's, never used before the pool closes, so that
	// no replica has it cached as live.
	unchecked := ok(t, e.login(a.Username, a.Password)).str("login.accessToken")

	e.db.Pools.For(domains.User).Close()
	r := e.gql(a.Access, `{ viewer { id } }`, nil)
	wantError(t, r, http.StatusOK, "INTERNAL", "")
	if r.Errors[0].Message != "internal error" || bytes.Contains(r.Raw, []byte("pool")) || bytes.Contains(r.Raw, []byte("closed")) {
		t.Fatalf("internal error leaks detail: %s", r.Raw)
	}

	// Credentials that cannot be checked are a server failure, not a 401.
	e.db.Pools.For(domains.Identity).Close()
	r = e.gql(unchecked, `{ __typename }`, nil)
	wantError(t, r, http.StatusInternalServerError, "INTERNAL", "")
	if r.Errors[0].Message != "internal error" {
		t.Fatalf("auth failure leaks detail: %s", r.Raw)
	}
}

func TestMultipartErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	form := func(fields map[string]string, file bool) (*bytes.Buffer, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for k, v := range fields {
			_ = w.WriteField(k, v)
		}
		if file {
			fw, _ := w.CreateFormFile("0", "a.txt")
			_, _ = fw.Write([]byte("hello"))
		}
		_ = w.Close()
		return &b, w.FormDataContentType()
	}
	cases := map[string]struct {
		fields map[string]string
		file   bool
		status int
	}{
		"no operations":       {map[string]string{"map": `{}`}, false, 400},
		"operations not JSON": {map[string]string{"operations": `{`, "map": `{}`}, false, 400},
		"no map":              {map[string]string{"operations": `{"query":"{ __typename }"}`}, false, 400},
		"file missing":        {map[string]string{"operations": `{"query":"{ __typename }"}`, "map": `{"0":["variables.f"]}`}, false, 400},
		"path outside vars":   {map[string]string{"operations": `{"query":"{ __typename }"}`, "map": `{"0":["query"]}`}, true, 400},
		"bad document":        {map[string]string{"operations": `{"query":"{ nope }"}`, "map": `{}`}, false, 422},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			body, ct := form(c.fields, c.file)
			wantError(t, e.raw(http.MethodPost, "/graphql", ct, body), c.status, "BAD_USER_INPUT", "")
		})
	}
	t.Run("non-websocket upgrade", func(t *testing.T) {
		r := e.raw(http.MethodGet, "/graphql?query="+strings.ReplaceAll("{ __typename }", " ", "+"), "", nil, "Upgrade", "h2c", "Connection", "Upgrade")
		wantError(t, r, http.StatusBadRequest, "BAD_USER_INPUT", "")
	})
}
