// Package gid encodes the API's global object ids. A global id is opaque to
// clients: the unpadded URL-safe base64 of "<Type>:<uuid>", so that one id
// names one object across every type and Query.node can refetch it.
package gid

import (
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/platform/apperr"
)

// Types of objects with global ids.
const (
	User    = "User"
	Session = "Session"
	Media   = "Media"
	Post    = "Post"
	Comment = "Comment"
	Article = "Article"
	Share   = "Share"
)

// maxLen bounds what Decode accepts: the longest type name plus a UUID,
// base64-encoded, fits easily.
const maxLen = 128

// Encode returns the global id of the object of type typ with id id.
// A page of posts encodes dozens of ids, so this builds each on the stack
// and allocates only the result.
func Encode(typ string, id uuid.UUID) string {
	var raw, out [maxLen]byte
	n := copy(raw[:], typ)
	raw[n] = ':'
	t := raw[n+1 : n+37]
	hex.Encode(t[0:8], id[0:4])
	hex.Encode(t[9:13], id[4:6])
	hex.Encode(t[14:18], id[6:8])
	hex.Encode(t[19:23], id[8:10])
	hex.Encode(t[24:36], id[10:16])
	t[8], t[13], t[18], t[23] = '-', '-', '-', '-'
	size := base64.RawURLEncoding.EncodedLen(n + 37)
	base64.RawURLEncoding.Encode(out[:size], raw[:n+37])
	return string(out[:size])
}

// Decode splits a global id into its type and UUID. ok is false for
// anything Encode did not produce.
func Decode(s string) (typ string, id uuid.UUID, ok bool) {
	if len(s) == 0 || len(s) > maxLen {
		return "", uuid.Nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return "", uuid.Nil, false
	}
	typ, rest, found := strings.Cut(string(raw), ":")
	if !found || typ == "" || len(rest) != 36 {
		return "", uuid.Nil, false
	}
	for _, c := range typ {
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return "", uuid.Nil, false
		}
	}
	id, err = uuid.Parse(rest)
	// The decoder skips line breaks: only the canonical spelling is an id.
	if err != nil || id == uuid.Nil || Encode(typ, id) != s {
		return "", uuid.Nil, false
	}
	return typ, id, true
}

// Parse decodes s as a global id of type typ; anything else is a
// BAD_USER_INPUT error naming field.
func Parse(field, typ, s string) (uuid.UUID, error) {
	t, id, ok := Decode(s)
	if !ok || t != typ {
		return uuid.Nil, apperr.Invalid(field, "%s is not a valid %s id", field, typ)
	}
	return id, nil
}
