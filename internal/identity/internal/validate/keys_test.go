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
