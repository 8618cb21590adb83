package bad

import _ "example.com/nova/pkg/relay" // want `platform may not import social through pkg/relay \(pkg/relay imports internal/social\)`
