package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/nova-social/nova/internal/platform/apperr"
)

// Error codes of the API that no domain returns: they come from the
// gateway itself.
const (
	codeTooComplex = "QUERY_TOO_COMPLEX"
	codeInternal   = "INTERNAL"
)

// internalMessage is all a client learns of a failure it did not cause.
const internalMessage = "internal error"

// clientCodes are the codes a client may see; any other code is replaced.
var clientCodes = map[string]bool{
	string(apperr.Unauthenticated): true, string(apperr.Forbidden): true, string(apperr.NotFound): true,
	string(apperr.BadInput): true, string(apperr.Conflict): true, string(apperr.RateLimited): true,
	codeTooComplex: true, codeInternal: true,
}

// presenter turns every error into one that carries an API code:
// domain errors keep their code, field and retry delay; a variable whose
// value does not fit its type is BAD_USER_INPUT on that variable or input
// field; documents that do not parse or validate become BAD_USER_INPUT on
// the field "query"; anything else is logged with the request id (as an
// error, unless the client hung up) and shown as a generic INTERNAL error.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		// A copy: the executor's own error values must stay as they are.
		presented := *graphql.DefaultErrorPresenter(ctx, err)
		gqlErr := &presented
		if e, ok := apperr.As(err); ok {
			gqlErr.Message = e.Message
			gqlErr.Extensions = domainExtensions(e)
			return gqlErr
		}
		var wrapped *gqlerror.Error
		if errors.As(err, &wrapped) && wrapped.Err == nil {
			// An error the executor or the gateway made: no domain detail inside.
			code, _ := wrapped.Extensions["code"].(string)
			switch {
			case code == errcode.ValidationFailed && isVariablePath(gqlErr.Path):
				// A variable's value does not fit its type: the document is
				// fine, the input is not, and the contract names the input
				// field at fault (the variable, or the field within it).
				gqlErr.Extensions = map[string]any{"code": string(apperr.BadInput), "field": lastPathName(gqlErr.Path)}
				return gqlErr
			case code == errcode.ParseFailed || code == errcode.ValidationFailed || code == "PERSISTED_QUERY_NOT_FOUND" || code == "PERSISTED_QUERY_NOT_SUPPORTED":
				gqlErr.Extensions = map[string]any{"code": string(apperr.BadInput), "field": "query"}
				return gqlErr
			case clientCodes[code]:
				return gqlErr
			case code == "" && gqlErr.Path != nil:
				// Argument coercion failures of the executor carry a path and no code.
				gqlErr.Extensions = map[string]any{"code": string(apperr.BadInput), "field": lastPathName(gqlErr.Path)}
				return gqlErr
			case code == "":
				// Request errors of the executor's extensions (a persisted
				// query hash that does not match its query).
				gqlErr.Extensions = map[string]any{"code": string(apperr.BadInput), "field": "query"}
				return gqlErr
			}
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			// The client hung up: nothing failed on our side.
			log.InfoContext(ctx, "graphql request canceled by the client", "path", gqlErr.Path.String())
		} else {
			log.ErrorContext(ctx, "graphql request failed", "path", gqlErr.Path.String(), "error", err.Error())
		}
		return &gqlerror.Error{Message: internalMessage, Path: gqlErr.Path, Extensions: map[string]any{"code": codeInternal}}
	}
}

func domainExtensions(e *apperr.Error) map[string]any {
	ext := map[string]any{"code": string(e.Code)}
	if e.Field != "" {
		ext["field"] = e.Field
	}
	if e.Code == apperr.RateLimited {
		ext["retryAfterSeconds"] = int(math.Max(1, math.Ceil(e.RetryAfter.Seconds())))
	}
	return ext
}

// isVariablePath reports whether p is where variable coercion puts its
// errors: "variable", the variable's name, then any input fields and list
// indexes within it.
func isVariablePath(p ast.Path) bool {
	return len(p) >= 2 && p[0] == ast.PathName("variable")
}

func lastPathName(p ast.Path) string {
	for i := len(p) - 1; i >= 0; i-- {
		if n, ok := p[i].(ast.PathName); ok {
			return string(n)
		}
	}
	return ""
}

// recoverer logs a resolver's panic with its stack and request id; the
// client gets the generic INTERNAL error.
func recoverer(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "panic in graphql resolver", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		return errPanic
	}
}

// errPanic is what a recovered panic becomes before the presenter.
var errPanic = errors.New("resolver panicked")
