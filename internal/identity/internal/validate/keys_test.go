package validate

import "testing"

func TestKeys(t *testing.T) {
	for _, c := range []struct{ in, username, email string }{
		{"MiXeD_1", "mixed_1", "mixed_1"},
		{"\u212Aelvin", "\u212Aelvin", "kelvin"},
		{"JOSE\u0301@Example.com", "jose\u0301@example.com", "jos\u00e9@example.com"},
		{"jos\u00e9@example.com", "jos\u00e9@example.com", "jos\u00e9@example.com"},
	} {
		if got := UsernameKey(c.in); got != c.username {
			t.Errorf("UsernameKey(%q) = %q, want %q", c.in, got, c.username)
		}
		if got := EmailKey(c.in); got != c.email {
			t.Errorf("EmailKey(%q) = %q, want %q", c.in, got, c.email)
		}
	}
}

// TestEmailKeyCapitalIWithDot: lower-casing turns the precomposed U+0130 into
// a plain i but keeps the dot of I followed by the combining U+0307, so the
// key composes the address first; every spelling of one address, with or
// without another mark between the I and its dot, is one key.
func TestEmailKeyCapitalIWithDot(t *testing.T) {
	for _, spellings := range [][]string{
		{"\u0130nfo@x.org", "I\u0307nfo@x.org"},
		{"\u0130\u0327nfo@x.org", "I\u0327\u0307nfo@x.org", "I\u0307\u0327nfo@x.org"},
		{"\u0130\u0323nfo@x.org", "I\u0323\u0307nfo@x.org", "I\u0307\u0323nfo@x.org", "\u1eca\u0307nfo@x.org"},
	} {
		want := EmailKey(spellings[0])
		for _, s := range spellings[1:] {
			if got := EmailKey(s); got != want {
				t.Errorf("EmailKey(%+q) = %+q, want %+q as for %+q", s, got, want, spellings[0])
			}
		}
	}
	// A lower-case i keeps its dot: i with U+0307 is not the address "info".
	if got := EmailKey("i\u0307nfo@x.org"); got != "i\u0307nfo@x.org" {
		t.Errorf("EmailKey(%+q) = %+q, want it unchanged", "i\u0307nfo@x.org", got)
	}
	if got := EmailKey("I\u0307nfo@x.org"); got != "info@x.org" {
		t.Errorf("EmailKey(%+q) = %+q, want %+q", "I\u0307nfo@x.org", got, "info@x.org")
	}
}
