// Package bad is platform code reaching into a domain. // want package:"domainEdges\\(identity→events, social→content\\)"
package bad

import _ "example.com/nova/internal/identity" // want `platform may not import internal/identity: platform is infrastructure and imports no domain`
