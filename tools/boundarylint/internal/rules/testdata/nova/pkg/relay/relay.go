// Package relay is a shared package outside internal/ that imports a // want package:"domainEdges\\(social→content\\) reaches\\(social\\)"
// domain: it carries that domain to whoever imports it.
package relay

import _ "example.com/nova/internal/social"
