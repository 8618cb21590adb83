// Package events is Nova's in-process event bus: domains publish catalogue
// events inside their own transactions (a transactional outbox on River) and
// subscribe idempotent handlers that run in their own transactions.
//
//nova:domain events schema=events deps=
package events
