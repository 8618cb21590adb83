// Package social owns follows; it may call content and user. // want package:"domainEdges\\(social→content\\)"
//
//nova:domain social schema=social deps=content,user,events
package social

import _ "example.com/nova/internal/content/leaf"
