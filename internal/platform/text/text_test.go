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
		// Letters and marks that Unicode says to render as nothing.
		"\u3164":              true, // Hangul filler, the usual "invisible name"
		"\u115f\u1160 \uffa0": true, // Hangul choseong, jungseong and half-width fillers
		"\ufe0f\U000e0100":    true, // variation selectors
		"\u034f\u17b4":        true, // combining grapheme joiner, Khmer inherent vowel
		"\u2800":              true, // blank Braille pattern
		"\u2764\ufe0f":        false,
		// Emoji newer than Go's Unicode tables, and private-use glyphs, show.
		"\U0001fae9": false,
		"\uf8ff":     false,
	} {
		if got := text.Blank(s); got != want {
			t.Errorf("Blank(%+q) = %v, want %v", s, got, want)
		}
	}
}

func TestHasNUL(t *testing.T) {
	for s, want := range map[string]bool{"": false, "plain": false, "a\x00b": true, "\x00": true, "ä\u2400": false} {
		if got := text.HasNUL(s); got != want {
			t.Errorf("HasNUL(%+q) = %v, want %v", s, got, want)
		}
	}
}
