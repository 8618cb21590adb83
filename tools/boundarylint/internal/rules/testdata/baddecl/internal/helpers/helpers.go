package helpers // want `internal/helpers declares no domain: add .//nova:domain helpers schema=<schema> deps=<domains>. to its doc.go`
