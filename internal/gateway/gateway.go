// Package gateway serves Nova's GraphQL API over HTTP and websockets. It
// owns no data: it authenticates the caller through identity, enforces the
// document limits, runs the schema of package graph against the domain
// services, and maps every error to a code of the public API.
package gateway

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/go-chi/chi/v5"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/nova-social/nova/internal/content"
	"github.com/nova-social/nova/internal/gateway/graph"
	"github.com/nova-social/nova/internal/identity"
	"github.com/nova-social/nova/internal/platform/apperr"
	"github.com/nova-social/nova/internal/social"
	"github.com/nova-social/nova/internal/user"
)

// Options configures the gateway.
type Options struct {
	Identity *identity.Service
	Users    *user.Service
	Content  *content.Service
	Social   *social.Service
	Log      *slog.Logger
	// Dev turns on introspection, field suggestions and GraphiQL.
	Dev bool
	// ComplexityLimit is the largest cost of one operation.
	ComplexityLimit int
	// MaxMessageBytes limits a GraphQL request the gateway reads itself:
	// one websocket message, or a multipart request's operations and map
	// together (its files get the server's upload limit). Set it to the
	// server's body limit, so that every transport holds a request to it.
	MaxMessageBytes int64
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (see clientAddr).
	TrustedProxies []netip.Prefix
	// AllowedOrigins may open websockets besides pages of the same host,
	// e.g. the public URL.
	AllowedOrigins []string
	// WSInitTimeout is how long a websocket may wait before connection_init;
	// 10 s when zero.
	WSInitTimeout time.Duration
	// WSRecheck is how often an authenticated websocket's token is checked
	// again (logout, ban, expiry close it with 4403); 30 s when zero.
	WSRecheck time.Duration
}

// Document limits of the public API.
const (
	maxDepth   = 15
	maxAliases = 30
	// queryCacheSize is how many parsed and validated documents are kept.
	queryCacheSize = 1000
	// apqCacheSize is how many persisted queries are remembered by hash.
	apqCacheSize = 1000
	// parserTokenLimit refuses absurdly long documents before parsing them whole.
	parserTokenLimit = 20_000
)

// maxCachedDocument is the longest document, in bytes, that the caches of
// validated and persisted documents keep. They count entries: without it, a
// client padding 1,000 documents to the body limit (a long string or
// comment costs no parsing) would make each hold a gigabyte. A longer
// document is served all the same, parsed and validated every time.
const maxCachedDocument = 32 << 10

// shortOnly is a cache that adds no entry whose document is longer than
// maxCachedDocument; document names it in an entry (its key or its value).
type shortOnly[T any] struct {
	graphql.Cache[T]
	document func(key string, value T) string
}

func (c shortOnly[T]) Add(ctx context.Context, key string, value T) {
	if len(c.document(key, value)) <= maxCachedDocument {
		c.Cache.Add(ctx, key, value)
	}
}

// rulesWithoutSuggestions are gqlparser's validation rules without "did you
// mean" suggestions. SetDisableSuggestion drops those for field names only;
// the rest would name the arguments, types, enum values and input fields
// that introspection hides outside dev.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, swap := range [][2]core.Rule{
		{rules.KnownArgumentNamesRule, rules.KnownArgumentNamesRuleWithoutSuggestions},
		{rules.KnownTypeNamesRule, rules.KnownTypeNamesRuleWithoutSuggestions},
		{rules.ScalarLeafsRule, rules.ScalarLeafsRuleWithoutSuggestions},
		{rules.ValuesOfCorrectTypeRule, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.ReplaceRule(swap[0].Name, swap[1].RuleFunc)
	}
	return r
}

// Gateway is the GraphQL API.
type Gateway struct {
	opts     Options
	resolver *graph.Resolver
	gql      *handler.Server
	ws       *wsTransport
}

// New builds the gateway.
func New(o Options) *Gateway {
	if o.WSInitTimeout == 0 {
		o.WSInitTimeout = 10 * time.Second
	}
	if o.WSRecheck == 0 {
		o.WSRecheck = 30 * time.Second
	}
	g := &Gateway{opts: o, resolver: &graph.Resolver{Identity: o.Identity, Users: o.Users, Content: o.Content, Social: o.Social}}
	schema := graph.NewSchema(g.resolver)
	srv := handler.New(schema)
	g.ws = newWSTransport(o.Log, o.WSInitTimeout, o.WSRecheck, o.MaxMessageBytes, o.AllowedOrigins, g.wsAuthenticate)
	g.ws.perOperation = g.withLoaders
	srv.AddTransport(g.ws)
	srv.AddTransport(multipartTransport{log: o.Log, maxFields: o.MaxMessageBytes, maxMemory: 8 << 20})
	srv.AddTransport(httpTransport{log: o.Log})
	srv.AddTransport(refuseTransport{})
	validated := shortOnly[*ast.QueryDocument]{Cache: lru.New[*ast.QueryDocument](queryCacheSize), document: func(query string, _ *ast.QueryDocument) string { return query }}
	srv.SetQueryCache(validated)
	srv.SetParserTokenLimit(parserTokenLimit)
	srv.SetDisableSuggestion(!o.Dev)
	if !o.Dev {
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	srv.SetErrorPresenter(presenter(o.Log))
	srv.SetRecoverFunc(recoverer(o.Log))
	srv.Use(extension.AutomaticPersistedQuery{Cache: shortOnly[string]{Cache: lru.New[string](apqCacheSize), document: func(_, query string) string { return query }}})
	if o.Dev {
		srv.Use(extension.Introspection{})
	}
	srv.Use(limitsExtension{
		l:         Limits{MaxDepth: maxDepth, MaxAliases: maxAliases, MaxComplexity: o.ComplexityLimit, Introspection: o.Dev},
		validated: validated,
		schema:    schema.Schema(),
	})
	g.gql = srv
	return g
}

// Mount adds /graphql (and /graphiql in dev) to r.
func (g *Gateway) Mount(r chi.Router) {
	h := g.authenticate(g.gql)
	r.Handle("/graphql", h)
	if g.opts.Dev {
		r.Get("/graphiql", playground.Handler("Nova GraphiQL", "/graphql"))
	}
}

// Shutdown closes the open websockets.
func (g *Gateway) Shutdown() { g.ws.Shutdown() }

// authenticate puts the caller into the request context: its address and
// user agent, the request's dataloaders and, with a valid bearer token,
// the signed-in session. A bad token fails the whole request with 401.
// A websocket upgrade carrying the header is refused with 400: a socket's
// token travels in connection_init, where it is checked again while the
// socket lives; one taken from the upgrade would never be.
func (g *Gateway) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := graph.WithClient(r.Context(), identity.ClientInfo{Addr: clientAddr(r, g.opts.TrustedProxies), UserAgent: r.UserAgent()})
		ctx = g.withLoaders(ctx)
		if h := r.Header.Get("Authorization"); h != "" {
			if g.ws.Supports(r) {
				writeResponse(w, r, http.StatusBadRequest, requestError(`a websocket's access token travels in connection_init's payload ({"authorization": "Bearer …"}), not in an Authorization header`))
				return
			}
			p, err := g.principal(ctx, h)
			if err != nil {
				g.refuse(w, r.WithContext(ctx), err)
				return
			}
			ctx = graph.WithPrincipal(ctx, p)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withLoaders gives ctx fresh dataloaders.
func (g *Gateway) withLoaders(ctx context.Context) context.Context {
	return graph.WithLoaders(ctx, graph.NewLoaders(g.resolver))
}

// errBadAuthorization is an Authorization header that is not a bearer token.
var errBadAuthorization = apperr.NewUnauthenticated("the Authorization header must be \"Bearer <access token>\"")

// principal verifies an Authorization header value through identity.
func (g *Gateway) principal(ctx context.Context, header string) (identity.Principal, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return identity.Principal{}, errBadAuthorization
	}
	return g.opts.Identity.Authenticate(ctx, token)
}

// refuse answers a request whose credentials failed: 401 UNAUTHENTICATED
// for a bad token, 500 INTERNAL when they could not be checked.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if _, ok := apperr.As(err); ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeResponse(w, r, http.StatusUnauthorized, &graphql.Response{Errors: gqlerror.List{{
			Message:    "invalid or expired access token",
			Extensions: map[string]any{"code": string(apperr.Unauthenticated)},
		}}})
		return
	}
	g.opts.Log.ErrorContext(r.Context(), "authenticate request", "error", err.Error())
	writeResponse(w, r, http.StatusInternalServerError, &graphql.Response{Errors: gqlerror.List{{
		Message: internalMessage, Extensions: map[string]any{"code": codeInternal},
	}}})
}

// wsAuthenticate authenticates a websocket from connection_init, its only
// credential: no authorization means anonymous, a bad one is an error
// (close 4403).
func (g *Gateway) wsAuthenticate(ctx context.Context, authorization string) (context.Context, error) {
	if authorization == "" {
		return ctx, nil
	}
	p, err := g.principal(ctx, authorization)
	if err != nil {
		return nil, err
	}
	return graph.WithPrincipal(ctx, p), nil
}

// clientAddr is the address a request came from: the connection's peer,
// unless the peer is one of the trusted proxies. Then it is the nearest
// address in X-Forwarded-For that is not a trusted proxy: each proxy appends
// the address it received the request from, so entries left of the nearest
// untrusted one may be the client's own invention. A malformed entry stops
// the walk at the proxy that appended it.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(addr, trusted) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if addr = hop.Unmap(); !isTrusted(addr, trusted) {
			break
		}
	}
	return addr.String()
}

// isTrusted reports whether addr is one of the trusted proxies.
func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	addr = addr.Unmap()
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
