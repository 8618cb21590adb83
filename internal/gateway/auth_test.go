package gateway_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claimsOf decodes a real access token's header and claims, to forge
// variants of it.
func claimsOf(t *testing.T, token string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("access token %q is not a JWS", token)
	}
	var header map[string]any
	claims := jwt.MapClaims{}
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

func TestAccessTokenAttacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.register("jwt")
	header, claims := claimsOf(t, a.Access)
	kid, _ := header["kid"].(string)

	// sign re-signs modified claims with the server's own key, so only the
	// modification can make the token fail.
	sign := func(mod func(jwt.MapClaims)) string {
		c := jwt.MapClaims{}
		for k, v := range claims {
			c[k] = v
		}
		mod(c)
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(e.key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The control: an unmodified re-signed token works.
	ok(t, e.gql(sign(func(jwt.MapClaims) {}), `{ viewer { id } }`, nil))

	parts := strings.Split(a.Access, ".")
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + kid + `"}`))
	flipped := []byte(parts[2])
	if flipped[10] == 'A' {
		flipped[10] = 'B'
	} else {
		flipped[10] = 'A'
	}
	hs := func(key []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	foreign := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	foreign.Header["kid"] = kid
	foreignSigned, _ := foreign.SignedString(otherKey)

	attacks := map[string]string{
		"alg none":             noneHeader + "." + parts[1] + ".",
		"alg none signed":      noneHeader + "." + parts[1] + "." + parts[2],
		"changed signature":    parts[0] + "." + parts[1] + "." + string(flipped),
		"changed claims":       parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+claims["sub"].(string)+`","admin":true}`)) + "." + parts[2],
		"HS256 guessed secret": hs([]byte("secret")),
		"HS256 with pub key":   hs(e.key.Public().(ed25519.PublicKey)),
		"another Ed25519 key":  foreignSigned,
		"expired":              sign(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
		"no exp":               sign(func(c jwt.MapClaims) { delete(c, "exp") }),
		"wrong audience":       sign(func(c jwt.MapClaims) { c["aud"] = "someone-else" }),
		"wrong issuer":         sign(func(c jwt.MapClaims) { c["iss"] = "evil" }),
		"wrong type":           sign(func(c jwt.MapClaims) { c["typ"] = "refresh" }),
		"unknown session":      sign(func(c jwt.MapClaims) { c["sid"] = "0190f5b6-6f5c-7c3e-9a4e-3c1d2b3a4f5e" }),
		"refresh token":        a.Refresh,
		"garbage":              "abc.def.ghi",
		"empty bearer":         "",
	}
	for name, token := range attacks {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(`{"query":"{ viewer { id } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			r := e.request(req)
			wantError(t, r, http.StatusUnauthorized, "UNAUTHENTICATED", "")
			if len(r.Errors) != 1 || r.Data != nil {
				t.Fatalf("want exactly one error and no data, got %s", r.Raw)
			}
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("not a bearer scheme", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/graphql", strings.NewReader(`{"query":"{ viewer { id } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
		wantError(t, e.request(req), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	})
	t.Run("bad token fails even anonymous-friendly operations", func(t *testing.T) {
		wantError(t, e.gql("garbage", `mutation { login(input: {login: "x", password: "y"}) { accessToken } }`, nil), http.StatusUnauthorized, "UNAUTHENTICATED", "")
	})
}
