package content

import (
	"context"

	"github.com/google/uuid"

	"github.com/nova-social/nova/internal/user"
)

// Directory resolves mentioned usernames to user ids for the events that
// notify mentioned users. The user domain provides it (UserDirectory).
type Directory interface {
	// UserIDs returns the ids of the usernames that exist (any case), keyed
	// by the lowercase username; unknown names are absent.
	UserIDs(ctx context.Context, usernames []string) (map[string]uuid.UUID, error)
}

// UserDirectory answers Directory from the user domain.
func UserDirectory(u *user.Service) Directory { return userDirectory{u} }

type userDirectory struct{ users *user.Service }

func (d userDirectory) UserIDs(ctx context.Context, usernames []string) (map[string]uuid.UUID, error) {
	users, err := d.users.ByUsernames(ctx, usernames)
	if err != nil {
		return nil, err
	}
	out := make(map[string]uuid.UUID, len(users))
	for name, u := range users {
		if !u.Banned {
			out[name] = u.ID
		}
	}
	return out, nil
}

// mentionIDs resolves mentions (lowercase usernames, in order, at most
// textscan.MaxMentions, which bounds the lookups one post or comment causes)
// to the ids of existing users, without duplicates. The events carry only
// those who may read the post or comment (store.PostReaders,
// store.CommentReaders): a notification must not reveal what its
// recipient cannot see.
func (s *Service) mentionIDs(ctx context.Context, mentions []string) ([]uuid.UUID, error) {
	if s.users == nil || len(mentions) == 0 {
		return nil, nil
	}
	found, err := s.users.UserIDs(ctx, mentions)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, 0, len(found))
	for _, m := range mentions {
		if id, ok := found[m]; ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
