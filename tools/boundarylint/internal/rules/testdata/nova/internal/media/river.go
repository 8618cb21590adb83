package media

import "github.com/riverqueue/river" // want `media may not import github.com/riverqueue/river: only the events domain talks to River`

var _ river.Client
