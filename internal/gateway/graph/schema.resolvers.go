package graph

import (
	"context"

	"github.com/nova-social/nova/internal/gateway/gid"
	"github.com/nova-social/nova/internal/gateway/graph/model"
	"github.com/nova-social/nova/internal/platform/apperr"
)

func (r *queryResolver) Node(ctx context.Context, id string) (model.Node, error) {
	typ, uid, ok := gid.Decode(id)
	if !ok {
		return nil, apperr.Invalid("id", "id is not a valid id")
	}
	switch typ {
	case gid.User:
		u, found, err := r.loadUser(ctx, uid)
		if err != nil || !found {
			return nil, err
		}
		return u, nil
	}
	return nil, nil
}

func (r *Resolver) Mutation() MutationResolver { return &mutationResolver{r} }

func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

type mutationResolver struct{ *Resolver }
type queryResolver struct{ *Resolver }
