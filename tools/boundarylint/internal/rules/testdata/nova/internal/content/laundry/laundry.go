// Package laundry reaches domains through packages that are not domains: // want package:"domainEdges\\(content→social, content→user, identity→events, social→content, user→events, user→identity\\)"
// social, which content may not import, and user, which it may.
package laundry

import (
	_ "example.com/nova/pkg/hop"   // want `content may not import social through pkg/hop \(pkg/hop imports pkg/relay; pkg/relay imports internal/social\)` `domain cycle content → social → content \(internal/content/laundry imports pkg/hop; pkg/hop imports pkg/relay; pkg/relay imports internal/social; internal/social imports internal/content/leaf\)`
	_ "example.com/nova/pkg/relay" // want `content may not import social through pkg/relay \(pkg/relay imports internal/social\)`
	_ "example.com/nova/tools/fixture"
)
