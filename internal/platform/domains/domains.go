// Package domains names Nova's eight domains, their Postgres schemas and roles.
//
// It is the one list the rest of the platform (pools, migrations, test
// databases) iterates over, so adding a domain is a one-line change here.
package domains

// Domain is one bounded context: it owns exactly one schema and acts in
// Postgres as exactly one role.
type Domain struct {
	// Name is the Go package name under internal/ and the suffix of the role.
	Name string
	// Schema is the Postgres schema the domain owns.
	Schema string
}

// Role is the Postgres role the domain's pool acts as.
func (d Domain) Role() string { return "nova_" + d.Name }

// The domains, in dependency order: a domain appears after every domain it
// may call, so migrations and start-up run in this order.
var (
	Events        = Domain{Name: "events", Schema: "events"}
	Identity      = Domain{Name: "identity", Schema: "identity"}
	User          = Domain{Name: "user", Schema: "users"}
	Media         = Domain{Name: "media", Schema: "media"}
	Content       = Domain{Name: "content", Schema: "content"}
	Social        = Domain{Name: "social", Schema: "social"}
	Communication = Domain{Name: "communication", Schema: "communication"}
	Search        = Domain{Name: "search", Schema: "search"}
)

// All lists every domain in dependency order.
var All = []Domain{Events, Identity, User, Media, Content, Social, Communication, Search}

// ByName returns the domain called name.
func ByName(name string) (Domain, bool) {
	for _, d := range All {
		if d.Name == name {
			return d, true
		}
	}
	return Domain{}, false
}
