// Package text holds the checks of user-written text that every domain
// applies alike.
package text

import (
	"strings"
	"unicode"
)

// HasNUL reports whether s holds U+0000, which Postgres text cannot store:
// a statement sending it fails, so input holding it is refused as bad input,
// or looked up as naming nothing, before it reaches the database.
func HasNUL(s string) bool { return strings.ContainsRune(s, 0) }

// Blank reports whether s shows nothing: none of its characters is visible,
// only white space, control characters, invisible format characters (a
// zero-width space, a joiner, a byte order mark, a bidi control) and the
// letters and marks that Unicode says to render as nothing (Hangul fillers,
// variation selectors), or the blank Braille pattern. A text a user must fill
// in is refused when blank, since it would otherwise pass for written.
func Blank(s string) bool { return !strings.ContainsFunc(s, visible) }

// invisible holds what shows nothing besides white space: control and
// format characters, and the letters, marks and symbols that do although
// their category says otherwise (Unicode's other default-ignorable code
// points, variation selectors, and U+2800, which fonts draw as an empty
// cell).
var invisible = []*unicode.RangeTable{
	unicode.Cc, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector,
	{R16: []unicode.Range16{{Lo: 0x2800, Hi: 0x2800, Stride: 1}}},
}

// visible is decided by what is known to show nothing, so that a character
// Go's Unicode tables do not know yet (a newer emoji) counts as visible.
func visible(r rune) bool { return !unicode.IsSpace(r) && !unicode.In(r, invisible...) }
