package content

import (
	_ "example.com/nova/internal/gateway" // want `content may not import internal/gateway: domains never depend on the gateway`
	_ "example.com/nova/internal/media"
	_ "example.com/nova/internal/platform/db"
	_ "example.com/nova/internal/social" // want `content may not import social \(internal/social\): content.s declared dependencies are \{events, media, user\}` `domain cycle content → social → content \(internal/content imports internal/social; internal/social imports internal/content/leaf\)`
	_ "example.com/nova/internal/user"
)
