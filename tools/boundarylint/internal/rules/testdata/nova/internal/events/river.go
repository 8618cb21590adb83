package events

import "github.com/riverqueue/river"

// The bus runs on River.
var _ river.Client
