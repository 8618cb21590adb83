package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Scenarios of posts and feeds.

// Sizes of the feed and fan-out set-ups.
var (
	// feedAuthors is how many authors every feed reader follows.
	feedAuthors = 8
	// feedPostsPerAuthor fills each reader's feed well past one page.
	feedPostsPerAuthor = 10
	// fanoutFollowers is how many followers the fan-out scenario's author
	// has (-followers).
	fanoutFollowers = 1000
)

const (
	createPostOp = `mutation($in: CreatePostInput!) { createPost(input: $in) { id } }`
	followOp     = `mutation($id: ID!) { follow(userId: $id) { id } }`
	// feedOp is a home-feed page as a client shows it: posts with their
	// author, counters and whether the reader liked them.
	feedOp = `query($n: Int) { feed(first: $n) { edges { cursor node { id body createdAt
		author { id username displayName } likeCount commentCount shareCount viewerHasLiked } }
		pageInfo { hasNextPage endCursor } } }`
)

func createPost(ctx context.Context, c *Client, s session, body string) (string, error) {
	var out struct{ CreatePost struct{ ID string } }
	err := c.Do(ctx, s.access, createPostOp, map[string]any{"in": map[string]any{"body": body}}, &out)
	return out.CreatePost.ID, err
}

// forEach runs f for every index below n, eight at a time, and joins the errors.
func forEach(n int, f func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// feedIDs reads the first n post ids of s's feed.
func feedIDs(ctx context.Context, c *Client, s session, n int) ([]string, error) {
	var out struct {
		Feed struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	if err := c.Do(ctx, s.access, `query($n: Int) { feed(first: $n) { edges { node { id } } } }`, map[string]any{"n": n}, &out); err != nil {
		return nil, err
	}
	ids := make([]string, len(out.Feed.Edges))
	for i, e := range out.Feed.Edges {
		ids[i] = e.Node.ID
	}
	return ids, nil
}

// feedScenario: signed-in users reading the first page (20 posts) of a home
// feed that follows several active authors.
type feedScenario struct{ readers []session }

func (s *feedScenario) Setup(ctx context.Context, c *Client, vus int) error {
	var err error
	if s.readers, err = accounts(ctx, c, min(vus, 64)); err != nil {
		return err
	}
	authors, err := accounts(ctx, c, feedAuthors)
	if err != nil {
		return err
	}
	err = forEach(len(s.readers)*len(authors), func(i int) error {
		r, a := s.readers[i/len(authors)], authors[i%len(authors)]
		return c.Do(ctx, r.access, followOp, map[string]any{"id": a.userID}, nil)
	})
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	err = forEach(len(authors)*feedPostsPerAuthor, func(i int) error {
		_, err := createPost(ctx, c, authors[i%len(authors)], fmt.Sprintf("setup post %d #loadgen", i))
		return err
	})
	if err != nil {
		return fmt.Errorf("create posts: %w", err)
	}
	// Wait until the fan-out has filled the first page of every feed.
	deadline := time.Now().Add(30 * time.Second)
	for _, r := range s.readers {
		for {
			ids, err := feedIDs(ctx, c, r, 20)
			if err != nil {
				return err
			}
			if len(ids) == 20 {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("feeds not filled after 30s")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

func (s *feedScenario) Run(ctx context.Context, c *Client, vu int, rec *recorder) error {
	r := s.readers[vu%len(s.readers)]
	start := time.Now()
	err := c.Do(ctx, r.access, feedOp, map[string]any{"n": 20}, nil)
	rec.record(ctx, "feed", start, err)
	return err
}

// postScenario: signed-in users posting as fast as they can (each post is
// also fanned out to its author's own feed).
type postScenario struct {
	authors []session
	seq     atomic.Int64
}

func (s *postScenario) Setup(ctx context.Context, c *Client, vus int) (err error) {
	s.authors, err = accounts(ctx, c, min(vus, 64))
	return err
}

func (s *postScenario) Run(ctx context.Context, c *Client, vu int, rec *recorder) error {
	a := s.authors[vu%len(s.authors)]
	start := time.Now()
	_, err := createPost(ctx, c, a, fmt.Sprintf("load post %d by %s #loadgen", s.seq.Add(1), a.username))
	rec.record(ctx, "createPost", start, err)
	return err
}

// fanoutPostOp is createPost with the post's creation time, which places it
// in a feed.
const fanoutPostOp = `mutation($in: CreatePostInput!) { createPost(input: $in) { id createdAt } }`

// feedPageOp reads a page of a feed's post ids and creation times, newest
// first.
const feedPageOp = `query($n: Int, $after: String) { feed(first: $n, after: $after) {
	edges { node { id createdAt } } pageInfo { hasNextPage endCursor } } }`

// inFeed reports whether the post id, created at created, is in s's feed. The
// feed is newest first and the author's later posts (other virtual users')
// may already be above it, so pages of 5 are read until it or an older post
// shows up: one page when it is on top or not there yet.
func inFeed(ctx context.Context, c *Client, s session, id string, created time.Time) (bool, error) {
	var after any
	for {
		var out struct {
			Feed struct {
				Edges []struct {
					Node struct {
						ID        string
						CreatedAt time.Time
					}
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		if err := c.Do(ctx, s.access, feedPageOp, map[string]any{"n": 5, "after": after}, &out); err != nil {
			return false, err
		}
		for _, e := range out.Feed.Edges {
			if e.Node.ID == id {
				return true, nil
			}
			if e.Node.CreatedAt.Before(created) {
				return false, nil
			}
		}
		if !out.Feed.PageInfo.HasNextPage {
			return false, nil
		}
		after = out.Feed.PageInfo.EndCursor
	}
}

// fanoutScenario: one author with many followers (-followers) posts; each
// iteration measures createPost and the time from sending it until the post
// is in one follower's feed (a different follower each time), polling every
// 2 ms.
type fanoutScenario struct {
	author    session
	followers []session
	seq       atomic.Int64
}

func (s *fanoutScenario) Setup(ctx context.Context, c *Client, _ int) error {
	authors, err := accounts(ctx, c, 1)
	if err != nil {
		return err
	}
	s.author = authors[0]
	if s.followers, err = accounts(ctx, c, fanoutFollowers); err != nil {
		return err
	}
	return forEach(len(s.followers), func(i int) error {
		return c.Do(ctx, s.followers[i].access, followOp, map[string]any{"id": s.author.userID}, nil)
	})
}

func (s *fanoutScenario) Run(ctx context.Context, c *Client, _ int, rec *recorder) error {
	n := s.seq.Add(1)
	follower := s.followers[int(n)%len(s.followers)]
	start := time.Now()
	var post struct {
		CreatePost struct {
			ID        string
			CreatedAt time.Time
		}
	}
	err := c.Do(ctx, s.author.access, fanoutPostOp, map[string]any{"in": map[string]any{"body": fmt.Sprintf("fan-out post %d", n)}}, &post)
	rec.record(ctx, fmt.Sprintf("createPost_%d_followers", len(s.followers)), start, err)
	if err != nil {
		return err
	}
	for time.Since(start) < visibleWithin {
		seen, err := inFeed(ctx, c, follower, post.CreatePost.ID, post.CreatePost.CreatedAt)
		if err != nil {
			rec.observe(ctx, "post_visible_in_follower_feed", time.Since(start), err)
			return err
		}
		if seen {
			rec.observe(ctx, "post_visible_in_follower_feed", time.Since(start), nil)
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	err = fmt.Errorf("post not in the follower's feed after %v: %w", visibleWithin, errGaveUp)
	rec.observe(ctx, "post_visible_in_follower_feed", time.Since(start), err)
	return err
}
