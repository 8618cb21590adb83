// Package cyca closes a domain cycle content → social → content that no // want package:"domainEdges\\(content→social, social→content\\)"
// package cycle reveals.
package cyca

import "example.com/nova/internal/social/cycb" // want `content may not import social` `domain cycle content → social → content \(internal/content/cyca imports internal/social/cycb; internal/social/cycb imports internal/content/leaf\)`

const Name = cycb.Name + "a"
