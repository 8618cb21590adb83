package validate

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/nova-social/nova/internal/identity/internal/password"
	"github.com/nova-social/nova/internal/platform/apperr"
)

// checkFieldError fails unless err is nil or a BAD_USER_INPUT naming field.
func checkFieldError(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil {
		return
	}
	ae, ok := apperr.As(err)
	if !ok || ae.Code != apperr.BadInput || ae.Field != field || ae.Message == "" {
		t.Fatalf("want BAD_USER_INPUT on %q, got %#v", field, err)
	}
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_]{3,30}$`)

func FuzzUsername(f *testing.F) {
	for _, s := range []string{"", "ab", "abc", "A_b_9", strings.Repeat("x", 30), strings.Repeat("x", 31), "é_abc", "a b", "abc\x00", "ＡＢＣ", "İstanbul"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Username("username", s)
		checkFieldError(t, err, "username")
		if (err == nil) != usernameRE.MatchString(s) {
			t.Fatalf("Username(%q) = %v, regexp says %v", s, err, usernameRE.MatchString(s))
		}
		if err == nil && UsernameKey(s) != strings.ToLower(s) {
			t.Fatal("key is not the lower-case form")
		}
		if err == nil && !PlausibleLogin(s) {
			t.Fatalf("username %q is not a plausible login", s)
		}
	})
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"", "a@b", "bob@example.org", "Bob <bob@example.org>", " bob@example.org", "bob@", "@example.org",
		"bob@@example.org", "b\x00b@example.org", "ünï@exämple.org", `"quoted"@example.org`, strings.Repeat("a", 250) + "@e.org", "a@b\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Email("email", s)
		checkFieldError(t, err, "email")
		if err != nil {
			return
		}
		// Whatever passes is one bare address, stored exactly as given.
		if len(s) > EmailMax || !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			t.Fatalf("accepted %q", s)
		}
		at := strings.LastIndexByte(s, '@')
		if at <= 0 || at == len(s)-1 {
			t.Fatalf("accepted %q without local part or domain", s)
		}
		if !PlausibleLogin(s) {
			t.Fatalf("email %q is not a plausible login", s)
		}
	})
}

func FuzzPassword(f *testing.F) {
	for _, s := range []string{"", "1234567", "12345678", "password", "Password1", "correct horse battery staple",
		strings.Repeat("ä", 128), strings.Repeat("ä", 129), "日本語日本語日本", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", "\x00\x00\x00\x00\x00\x00\x00\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Password("password", s)
		checkFieldError(t, err, "password")
		n := utf8.RuneCountInString(s)
		valid := utf8.ValidString(s) && n >= PasswordMin && n <= PasswordMax
		switch {
		case err == nil && !valid:
			t.Fatalf("accepted %q (%d code points)", s, n)
		case err != nil && valid && !password.IsCommon(s):
			t.Fatalf("refused %q: %v", s, err)
		}
	})
}

func FuzzDisplayName(f *testing.F) {
	for _, s := range []string{"", " ", "Zoë 🚀", strings.Repeat("é", 64), strings.Repeat("é", 65), "a\nb", "\u202eevil", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := DisplayName("displayName", s)
		checkFieldError(t, err, "displayName")
		if err == nil && (!utf8.ValidString(s) || utf8.RuneCountInString(s) > DisplayNameMax || strings.TrimSpace(s) == "" || strings.ContainsRune(s, 0)) {
			t.Fatalf("accepted %q", s)
		}
	})
}
