// Package validate checks registration and login input, returning field
// errors named after the GraphQL input fields.
package validate

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/nova-social/nova/internal/identity/internal/password"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/platform/text"
)

// Limits of the public API.
const (
	UsernameMin    = 3
	UsernameMax    = 30
	PasswordMin    = 8
	PasswordMax    = 128
	EmailMax       = 254 // RFC 5321 path limit
	DisplayNameMax = 64
)

// Username accepts 3–30 of A–Z a–z 0–9 _.
func Username(field, s string) error {
	if n := len(s); n < UsernameMin || n > UsernameMax {
		return apperr.Invalid(field, "must be %d to %d characters", UsernameMin, UsernameMax)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return apperr.Invalid(field, "may contain only letters A-Z, digits and underscores")
		}
	}
	return nil
}

// UsernameKey is the case-folded form under which usernames are unique. Only
// A–Z fold: usernames are ASCII, and full Unicode lower-casing would let a
// look-alike that is no username (the Kelvin sign K) name an account.
func UsernameKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// Email accepts one bare address (no display name, no surrounding space) of
// at most 254 bytes, with a local part and a domain.
func Email(field, s string) error {
	if s == "" {
		return apperr.Invalid(field, "is required")
	}
	if len(s) > EmailMax || !utf8.ValidString(s) {
		return apperr.Invalid(field, "is not a valid email address")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return apperr.Invalid(field, "is not a valid email address")
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return apperr.Invalid(field, "is not a valid email address")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return apperr.Invalid(field, "is not a valid email address")
	}
	return nil
}

// PlausibleLogin reports whether s could be an account's email or username:
// at most EmailMax bytes of UTF-8 without control characters, as are all
// that Email and Username accept.
func PlausibleLogin(s string) bool {
	if len(s) > EmailMax || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// EmailKey is the case-folded form under which emails are unique, in
// Unicode's composed form (NFC): an accent typed precomposed or combining is
// one address to its owner, so it is one key. The address is composed before
// it is lower-cased as well as after: lower-casing is not the same for every
// spelling of a letter (U+0130 İ becomes a plain i, but I followed by the
// combining dot U+0307 keeps its dot), so every spelling is first brought to
// the one composed form.
func EmailKey(s string) string { return norm.NFC.String(strings.ToLower(norm.NFC.String(s))) }

// Password accepts 8–128 Unicode code points of anything, compared and
// hashed exactly as given, except the most common passwords.
func Password(field, s string) error {
	if !utf8.ValidString(s) {
		return apperr.Invalid(field, "must be valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(s); n < PasswordMin || n > PasswordMax {
		return apperr.Invalid(field, "must be %d to %d characters", PasswordMin, PasswordMax)
	}
	if password.IsCommon(s) {
		return apperr.Invalid(field, "is too common; choose a less guessable password")
	}
	return nil
}

// DisplayName accepts 1–64 code points of one line of text with something
// visible in it: not only spaces or invisible format characters (a zero-width
// space), which would leave a blank name. The user domain applies the same
// rules to a changed display name.
func DisplayName(field, s string) error {
	if !utf8.ValidString(s) {
		return apperr.Invalid(field, "must be valid UTF-8 text")
	}
	if n := utf8.RuneCountInString(s); n > DisplayNameMax {
		return apperr.Invalid(field, "must be at most %d characters", DisplayNameMax)
	}
	if text.Blank(s) {
		return apperr.Invalid(field, "must not be blank")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return apperr.Invalid(field, "must not contain control characters or line breaks")
		}
		if bidiScope(r) {
			return apperr.Invalid(field, "must not contain bidirectional embedding, override or isolate characters")
		}
	}
	return nil
}

// bidiScope reports the bidirectional controls that open a scope (U+202A–
// U+202E, U+2066–U+2069): left open in a name, they reorder the text shown
// after it ("Admin\u202Egpj.exe" reads "Adminexe.jpg"). The marks U+200E and
// U+200F, which right-to-left names need, are single characters and stay.
func bidiScope(r rune) bool {
	return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
}
