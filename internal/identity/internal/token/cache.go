package token

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// maxVerified bounds the cache of verified tokens (about 100 bytes each).
const maxVerified = 50_000

type verifiedToken struct {
	userID, sessionID uuid.UUID
	expires           time.Time
}

// verifiedCache remembers tokens whose signature and claims verified, by the
// SHA-256 of the token. It is emptied whole when full: simple, and a miss
// costs only one signature check.
type verifiedCache struct {
	mu sync.RWMutex
	m  map[[32]byte]verifiedToken
}

func (c *verifiedCache) get(k [32]byte) (verifiedToken, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *verifiedCache) put(k [32]byte, v verifiedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxVerified {
		c.m = make(map[[32]byte]verifiedToken, 1024)
	}
	c.m[k] = v
}
