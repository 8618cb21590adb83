// Package textscan extracts #hashtags and @mentions from post and comment
// bodies. Both are recognised only at a word start, so e-mail addresses and
// URL fragments ("a@b.c", "page#top") are not taken for them, and never
// inside a link ("https://x.org/#top", "www.x.org/@bob").
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
	// MaxTags and MaxMentions bound what one post or comment yields: the
	// first ones count, so that a single body cannot enter hundreds of
	// tags into trending or notify hundreds of users.
	MaxTags     = 30
	MaxMentions = 20
	// Mentions follow the username rule: 3–30 of A–Z a–z 0–9 _.
	minMention = 3
	maxMention = 30
)

// Extract returns the distinct hashtags (lowercase, without '#') and the
// distinct mentioned usernames (lowercase, without '@') in order of first
// appearance, at most MaxTags and MaxMentions. Neither slice is nil. The
// body is read in Unicode's composed form (NFC), so that a tag typed with a
// precomposed accent and one typed with a combining accent are one tag.
func Extract(body string) (tags, mentions []string) {
	body = norm.NFC.String(body)
	tags, mentions = []string{}, []string{}
	seenTag, seenMention := map[string]bool{}, map[string]bool{}
	prev := ' '
	for i := 0; i < len(body); {
		if !isWordRune(prev) {
			if n := linkLen(body[i:]); n > 0 {
				i += n
				prev, _ = utf8.DecodeLastRuneInString(body[:i])
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(body[i:])
		if (r == '#' || r == '@') && !isWordRune(prev) {
			word, n := scanWord(body[i+size:], r == '@')
			if r == '#' && word != "" && utf8.RuneCountInString(word) <= MaxTagLen && len(tags) < MaxTags {
				if t := strings.ToLower(word); !seenTag[t] {
					seenTag[t] = true
					tags = append(tags, t)
				}
			}
			if r == '@' && len(word) >= minMention && len(word) <= maxMention && len(mentions) < MaxMentions {
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

// linkLen returns the length of the link at the start of s ("scheme://…"
// or "www.…", up to the next white space), or 0 when s starts with none.
func linkLen(s string) int {
	if !hasScheme(s) && !(len(s) >= 4 && strings.EqualFold(s[:4], "www.")) {
		return 0
	}
	if n := strings.IndexFunc(s, unicode.IsSpace); n >= 0 {
		return n
	}
	return len(s)
}

// hasScheme reports whether s starts with a URL scheme and "://".
func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return i > 0 && strings.HasPrefix(s[i:], "://")
		}
	}
	return false
}

// scanWord reads the run of word runes at the start of s. Usernames are
// ASCII only; hashtags take any letter or digit, and a zero-width joiner or
// non-joiner between two word runes (Persian and Indic spelling need them).
// It returns the word ("" when the run is not a valid tag or mention) and the
// bytes consumed.
func scanWord(s string, ascii bool) (string, int) {
	n := 0
	valid := true
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !isWordRune(r) && (ascii || n == 0 || !isJoiner(r) || !startsWithWordRune(s[n+size:])) {
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

// isWordRune: letters, digits, '_' and marks, the spacing ones included
// (the vowel signs of Devanagari or Tamil are spacing marks).
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func isJoiner(r rune) bool { return r == '\u200c' || r == '\u200d' }

func startsWithWordRune(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWordRune(r)
}

func containsLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}
