// Package text holds the checks of user-written text that every domain
// applies alike.
package text

import (
	"strings"
	"unicode"
)

// Blank reports whether s shows nothing: none of its characters is visible
// (a letter, mark, number, punctuation or symbol), only white space,
// invisible format characters (a zero-width space, a joiner, a byte order
// mark) or control characters. A text a user must fill in is refused when
// blank, since it would otherwise pass for written.
func Blank(s string) bool { return !strings.ContainsFunc(s, visible) }

func visible(r rune) bool { return unicode.IsGraphic(r) && !unicode.IsSpace(r) }
