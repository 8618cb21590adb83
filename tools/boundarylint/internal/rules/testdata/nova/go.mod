module example.com/nova

go 1.26

require (
	github.com/jackc/pgx/v5 v5.0.0
	github.com/riverqueue/river v0.0.0
)

replace (
	github.com/jackc/pgx/v5 => ./fakepgx
	github.com/riverqueue/river => ./fakeriver
)
