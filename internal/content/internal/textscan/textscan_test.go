package textscan

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestExtract(t *testing.T) {
	cases := []struct {
		body           string
		tags, mentions []string
	}{
		{"hello #Go and #go again", []string{"go"}, []string{}},
		{"#Nova, @Alice: ping @bob_2!", []string{"nova"}, []string{"alice", "bob_2"}},
		{"mail me at a@example.com or see page#top", []string{}, []string{}},
		{"@ab is too short, @abc is fine", []string{}, []string{"abc"}},
		{"@" + strings.Repeat("x", 31) + " too long", []string{}, []string{}},
		{"#1 is a number, #1st is a tag", []string{"1st"}, []string{}},
		{"#a#b @bob@carol", []string{"a"}, []string{"bob"}},
		{"Ünïcode #Café and #ÇA", []string{"café", "ça"}, []string{}},
		{"#cafe\u0301 and #caf\u00e9 are one tag", []string{"caf\u00e9"}, []string{}},
		{"@Zoë is not a username", []string{}, []string{}},
		{"(#paren) [@bracket]", []string{"paren"}, []string{"bracket"}},
		{"", []string{}, []string{}},
		// Spacing marks (Devanagari, Tamil) and the joiners of Persian
		// spelling are part of a word, as combining marks are.
		{"#हिन्दी and #தமிழ்", []string{"हिन्दी", "தமிழ்"}, []string{}},
		{"#می\u200cخواهم #go\u200c", []string{"می\u200cخواهم", "go"}, []string{}},
		// Links are neither tags nor mentions, whatever follows '/'.
		{"see https://example.com/#top, https://medium.com/@alice/post and www.example.org/#x", []string{}, []string{}},
		{"(link:HTTP://a.b/c#d) #real @bob mailto:x@y.z", []string{"real"}, []string{"bob"}},
	}
	for _, c := range cases {
		tags, mentions := Extract(c.body)
		if !reflect.DeepEqual(tags, c.tags) || !reflect.DeepEqual(mentions, c.mentions) {
			t.Errorf("Extract(%q) = %q, %q; want %q, %q", c.body, tags, mentions, c.tags, c.mentions)
		}
	}
}

// TestExtractBounds: a post or comment yields at most MaxTags tags and
// MaxMentions mentions, the first ones.
func TestExtractBounds(t *testing.T) {
	var b strings.Builder
	for i := range MaxTags + 10 {
		fmt.Fprintf(&b, "#t%d @user%d ", i, i)
	}
	tags, mentions := Extract(b.String())
	if len(tags) != MaxTags || tags[0] != "t0" || tags[MaxTags-1] != fmt.Sprintf("t%d", MaxTags-1) {
		t.Fatalf("%d tags %q, want the first %d", len(tags), tags, MaxTags)
	}
	if len(mentions) != MaxMentions || mentions[0] != "user0" || mentions[MaxMentions-1] != fmt.Sprintf("user%d", MaxMentions-1) {
		t.Fatalf("%d mentions %q, want the first %d", len(mentions), mentions, MaxMentions)
	}
}

// FuzzExtract checks invariants on arbitrary input; its seeds run in the
// normal test suite.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{"#go @bob", "a@b.c #x#y", "##tag @@user", "#\u0301x", "@_a_ #_", "\xff#bad\xfe@utf", "#ÇA @Abc_123 #ça", "#cafe\u0301 #caf\u00e9", "#हिन्दी https://x.y/#z", "#a\u200c\u200cb #c\u200d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		tags, mentions := Extract(body)
		if len(tags) > MaxTags || len(mentions) > MaxMentions {
			t.Fatalf("%d tags, %d mentions from %q", len(tags), len(mentions), body)
		}
		lower := strings.ToLower(norm.NFC.String(body))
		seen := map[string]bool{}
		for _, tag := range tags {
			if tag == "" || tag != strings.ToLower(tag) || seen["#"+tag] || utf8.RuneCountInString(tag) > MaxTagLen {
				t.Fatalf("bad tag %q from %q", tag, body)
			}
			seen["#"+tag] = true
			if !strings.Contains(lower, "#"+tag) {
				t.Fatalf("tag %q not in %q", tag, body)
			}
		}
		for _, m := range mentions {
			if len(m) < minMention || len(m) > maxMention || seen["@"+m] {
				t.Fatalf("bad mention %q from %q", m, body)
			}
			seen["@"+m] = true
			for _, r := range m {
				if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
					t.Fatalf("mention %q has %q", m, r)
				}
			}
			if !strings.Contains(lower, "@"+m) {
				t.Fatalf("mention %q not in %q", m, body)
			}
		}
	})
}
