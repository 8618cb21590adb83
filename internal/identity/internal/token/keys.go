// Package token issues and verifies access tokens (Ed25519-signed JWTs) and
// makes opaque refresh tokens.
package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Key is a verification key and its id.
type Key struct {
	ID     string
	Public ed25519.PublicKey
}

// KeyID is the RFC 7638 JWK thumbprint of an Ed25519 public key: stable,
// derived from the key alone, so every replica computes the same kid.
func KeyID(pub ed25519.PublicKey) string {
	jwk := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	sum := sha256.Sum256([]byte(jwk))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// LoadPrivateKey reads a PEM "PRIVATE KEY" block holding a PKCS#8 Ed25519
// key, as `openssl genpkey -algorithm ed25519` writes it.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	return ParsePrivateKey(b)
}

// ParsePrivateKey parses PEM PKCS#8 Ed25519 private key bytes.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New(`signing key: want a PEM "PRIVATE KEY" (PKCS#8) block`)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key: want Ed25519, got %T", k)
	}
	return ek, nil
}

// LoadPublicKey reads a PEM "PUBLIC KEY" block (PKIX) holding an Ed25519 key.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New(`public key: want a PEM "PUBLIC KEY" block`)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key: want Ed25519, got %T", k)
	}
	return ek, nil
}

// EncodePrivateKey returns k as PEM PKCS#8.
func EncodePrivateKey(k ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodePublicKey returns k as PEM PKIX.
func EncodePublicKey(k ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// DevKeyFile is the name of the key generated in the data dir in dev mode.
const DevKeyFile = "jwt-ed25519.pem"

// LoadOrCreateDevKey returns the key kept in dir, generating it on first
// use. The key is written to a temporary file and linked into place, which
// fails if the name exists: concurrent starts agree on one key, and none
// reads a file another is still writing.
func LoadOrCreateDevKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, DevKeyFile)
	k, err := LoadPrivateKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	pemBytes, err := EncodePrivateKey(priv)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, DevKeyFile+".*")
	if err != nil {
		return nil, fmt.Errorf("write dev signing key: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(pemBytes)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write dev signing key: %w", err)
	}
	err = os.Link(f.Name(), path)
	if errors.Is(err, fs.ErrExist) {
		return LoadPrivateKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("write dev signing key: %w", err)
	}
	return priv, nil
}
