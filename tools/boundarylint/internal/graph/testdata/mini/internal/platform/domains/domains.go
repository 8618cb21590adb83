package domains

type Domain struct{ Name string }

var (
	Content = Domain{Name: "content"}
	Search  = Domain{Name: "search"}
)
