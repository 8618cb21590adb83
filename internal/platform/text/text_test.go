package text_test

import (
	"testing"

	"github.com/nova-social/nova/internal/platform/text"
)

func TestBlank(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"":                           true,
		"   \t\n":                    true,
		"\u00a0\u3000":               true, // no-break and ideographic spaces
		"\u200b":                     true, // zero-width space
		" \u200d\u2060\ufeff ":       true, // joiners, byte order mark
		"\x01\x7f":                   true,
		"a":                          false,
		" \u200b.":                   false,
		"\U0001F469\u200d\U0001F4BB": false, // an emoji sequence joined by U+200D
		"e\u0301":                    false,
		"\u0301":                     false, // a lone combining mark still shows
	} {
		if got := text.Blank(s); got != want {
			t.Errorf("Blank(%+q) = %v, want %v", s, got, want)
		}
	}
}
