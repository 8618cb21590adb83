// Package textscan extracts #hashtags and @mentions from post and comment
// bodies. Both are recognised only at a word start, so e-mail addresses and
// URL fragments ("a@b.c", "page#top") are not taken for them.
package textscan

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const (
	// MaxTagLen bounds a hashtag, in code points; longer runs are not tags.
	MaxTagLen = 64
	// Mentions follow the username rule: 3–30 of A–Z a–z 0–9 _.
	minMention = 3
	maxMention = 30
)

// Extract returns the distinct hashtags (lowercase, without '#') and the
// distinct mentioned usernames (lowercase, without '@') in order of first
// appearance. Neither slice is nil. The body is read in Unicode's composed
// form (NFC), so that a tag typed with a precomposed accent and one typed
// with a combining accent are one tag.
func Extract(body string) (tags, mentions []string) {
	body = norm.NFC.String(body)
	tags, mentions = []string{}, []string{}
	seenTag, seenMention := map[string]bool{}, map[string]bool{}
	prev := ' '
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		if (r == '#' || r == '@') && !isWordRune(prev) {
			word, n := scanWord(body[i+size:], r == '@')
			if r == '#' && word != "" && utf8.RuneCountInString(word) <= MaxTagLen {
				if t := strings.ToLower(word); !seenTag[t] {
					seenTag[t] = true
					tags = append(tags, t)
				}
			}
			if r == '@' && len(word) >= minMention && len(word) <= maxMention {
				if m := strings.ToLower(word); !seenMention[m] {
					seenMention[m] = true
					mentions = append(mentions, m)
				}
			}
			if n > 0 {
				// Skip the whole run so "#a#b" yields one tag and "@bob@x" none after bob.
				i += size + n
				prev, _ = utf8.DecodeLastRuneInString(body[:i])
				continue
			}
		}
		prev = r
		i += size
	}
	return tags, mentions
}

// scanWord reads the run of word runes at the start of s. Usernames are
// ASCII only; hashtags take any letter or digit. It returns the word ("" when
// the run is not a valid tag or mention) and the bytes consumed.
func scanWord(s string, ascii bool) (string, int) {
	n := 0
	valid := true
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !isWordRune(r) {
			break
		}
		if ascii && r >= utf8.RuneSelf {
			valid = false
		}
		n += size
	}
	if !valid || n == 0 {
		return "", n
	}
	word := s[:n]
	if !ascii && !containsLetter(word) {
		// "#1" is a number, not a tag.
		return "", n
	}
	return word, n
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func containsLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
