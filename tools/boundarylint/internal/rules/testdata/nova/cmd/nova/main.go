// Command nova is the binary; it may import every domain. // want package:"domainEdges\\(content→media, content→social, content→user, identity→events, social→content, user→events, user→identity\\)"
package main

import (
	_ "example.com/nova/internal/app"
	_ "example.com/nova/internal/events"
)

func main() {}
