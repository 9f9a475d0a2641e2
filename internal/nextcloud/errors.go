package nextcloud

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinels for errors.Is. An *Error matches the sentinel of its class.
var (
	ErrNotFound                 = errors.New("nextcloud: not found")
	ErrPreconditionFailed       = errors.New("nextcloud: precondition failed")
	ErrUnauthorized             = errors.New("nextcloud: unauthorized")
	ErrForbidden                = errors.New("nextcloud: forbidden")
	ErrBearerRejectedOnAppRoute = errors.New("nextcloud: bearer token refused on an app route")
	ErrLocked                   = errors.New("nextcloud: locked")
	ErrInsufficientStorage      = errors.New("nextcloud: insufficient storage")
	ErrTimeout                  = errors.New("nextcloud: timeout")
	ErrUnavailable              = errors.New("nextcloud: unavailable") // 5xx or transport failure
	ErrUnexpectedResponse       = errors.New("nextcloud: unexpected response")
	// ErrForeignURL matches a request Do refused because its URL is not
	// below the Client's base URL: the credentials must not go there.
	ErrForeignURL = errors.New("nextcloud: URL outside the Nextcloud base URL")
)

// corsRefusal is the message Nextcloud's CORSMiddleware sends when it
// logs out a request on a #[CORS] route that carries no Basic credentials
// (docs/nextcloud-contract.md §1.3; nextcloud/server
// lib/private/AppFramework/Middleware/Security/CORSMiddleware.php).
const corsRefusal = "CORS requires basic auth"

// passwordLoginForbidden is the CORS middleware's message when password
// login is forbidden (2FA or token_auth_enforced).
const passwordLoginForbidden = "Password login forbidden, use token instead"

// Error is a failed call to Nextcloud. Its message is meant for users: it
// names the operation and object, never credentials. Classify it with
// errors.Is against the sentinels (or the Is* helpers) or inspect fields.
type Error struct {
	Op       string // what was attempted, a verb phrase: "get note 42"
	Resource string // the object, when there is one: "Note 42"
	Method   string
	Path     string // request path (escaped), without query

	Status    int    // effective HTTP status (OCS codes mapped, docs/nextcloud-contract.md §2.1); 0 when no response
	OCSStatus int    // OCS meta.statuscode, when the body was an OCS envelope
	Message   string // Nextcloud's own message, sanitized and truncated

	AuthKind AuthKind // which credentials the request carried
	// BearerRejectedOnAppRoute is set when Nextcloud's #[CORS] middleware
	// refused a bearer token on an index.php app route (401 "CORS requires
	// basic auth"): the token may be fine, the route will not take it.
	BearerRejectedOnAppRoute bool

	ETag        string // the etag a conditional write sent (412)
	CurrentETag string // the server's current etag, when a 412 body carried it

	Err error // underlying cause: transport error, timeout, decode error
}

// Error implements error.
func (e *Error) Error() string {
	subject := e.Resource
	what := e.Op
	if what == "" {
		what = strings.TrimSpace(e.Method + " " + e.Path)
	}
	var b strings.Builder
	switch {
	case e.Status == 0 && e.Err != nil:
		var te *timeoutError
		switch {
		case errors.As(e.Err, &te):
			fmt.Fprintf(&b, "Nextcloud did not answer within %s while trying to %s", te.d, what)
		case errors.Is(e.Err, context.DeadlineExceeded):
			fmt.Fprintf(&b, "the request to %s ran out of time", what)
		case errors.Is(e.Err, context.Canceled):
			fmt.Fprintf(&b, "the request to %s was canceled", what)
		default:
			fmt.Fprintf(&b, "could not reach Nextcloud to %s: %v", what, e.Err)
		}
		return b.String()
	case e.BearerRejectedOnAppRoute:
		fmt.Fprintf(&b, "Nextcloud refused a bearer token on this app route (%s %s): its #[CORS] check answered 401 %q; the server needs the CORS bearer fix or requests carrying OCS-APIRequest", e.Method, e.Path, corsRefusal)
		return b.String()
	case e.Status == http.StatusUnauthorized:
		switch {
		case e.Message == passwordLoginForbidden:
			fmt.Fprintf(&b, "Nextcloud forbids password login (HTTP 401) while trying to %s; use an app password", what)
		case e.AuthKind == AuthBasic:
			fmt.Fprintf(&b, "Nextcloud rejected the Basic credentials (HTTP 401) while trying to %s; check the user name and app password", what)
		case e.AuthKind == AuthBearer:
			fmt.Fprintf(&b, "Nextcloud did not accept the bearer token (HTTP 401) while trying to %s; it must be valid for Nextcloud (issuer trusted by user_oidc, audience including Nextcloud's client id)", what)
		default:
			fmt.Fprintf(&b, "Nextcloud requires authentication (HTTP 401) to %s", what)
		}
	case e.Status == http.StatusForbidden:
		if subject != "" {
			fmt.Fprintf(&b, "Nextcloud denied access to %s (HTTP 403)", lowerFirst(subject))
		} else {
			fmt.Fprintf(&b, "Nextcloud denied the request to %s (HTTP 403)", what)
		}
	case e.Status == http.StatusNotFound:
		if subject != "" {
			fmt.Fprintf(&b, "%s not found", subject)
			return b.String()
		}
		fmt.Fprintf(&b, "Nextcloud found nothing to %s (HTTP 404)", what)
	case e.Status == http.StatusPreconditionFailed:
		if subject == "" {
			subject = "The object"
		}
		if e.ETag != "" {
			fmt.Fprintf(&b, "%s changed since etag %s; fetch it again", subject, e.ETag)
			if e.CurrentETag != "" && e.CurrentETag != e.ETag {
				fmt.Fprintf(&b, " (current etag %s)", e.CurrentETag)
			}
			return b.String()
		}
		fmt.Fprintf(&b, "%s changed concurrently (HTTP 412); fetch it again", subject)
		return b.String()
	case e.Status == http.StatusLocked:
		if subject == "" {
			subject = "The object"
		}
		fmt.Fprintf(&b, "%s is locked in Nextcloud (HTTP 423); try again later", subject)
	case e.Status == http.StatusInsufficientStorage:
		fmt.Fprintf(&b, "Nextcloud has no storage left to %s (HTTP 507)", what)
	case e.Err != nil && errors.Is(e.Err, ErrUnexpectedResponse):
		fmt.Fprintf(&b, "Nextcloud sent an unexpected response to %s (HTTP %d): %v", what, e.Status, e.Err)
		return b.String()
	case e.Err != nil:
		fmt.Fprintf(&b, "could not %s (HTTP %d): %v", what, e.Status, e.Err)
		return b.String()
	default:
		fmt.Fprintf(&b, "Nextcloud could not %s: HTTP %d %s", what, e.Status, http.StatusText(e.Status))
	}
	if e.OCSStatus != 0 && e.OCSStatus != e.Status {
		fmt.Fprintf(&b, " (OCS %d)", e.OCSStatus)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel of e's class.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrPreconditionFailed:
		return e.Status == http.StatusPreconditionFailed
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrBearerRejectedOnAppRoute:
		return e.BearerRejectedOnAppRoute
	case ErrLocked:
		return e.Status == http.StatusLocked
	case ErrInsufficientStorage:
		return e.Status == http.StatusInsufficientStorage
	case ErrTimeout:
		return e.Status == 0 && errors.Is(e.Err, context.DeadlineExceeded)
	case ErrUnavailable:
		if e.Status >= 500 && e.Status != http.StatusInsufficientStorage {
			return true
		}
		return e.Status == 0 && e.Err != nil &&
			!errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, context.Canceled)
	}
	return false
}

// IsNotFound reports whether err is a Nextcloud 404.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsPreconditionFailed reports whether err is a 412 (stale etag).
func IsPreconditionFailed(err error) bool { return errors.Is(err, ErrPreconditionFailed) }

// IsUnauthorized reports whether Nextcloud refused the credentials (401),
// including the #[CORS] refusal of a bearer token.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsBearerRejectedOnAppRoute reports whether Nextcloud refused a bearer
// token on a #[CORS] app route.
func IsBearerRejectedOnAppRoute(err error) bool { return errors.Is(err, ErrBearerRejectedOnAppRoute) }

// IsTimeout reports whether the call ran out of time.
func IsTimeout(err error) bool { return errors.Is(err, ErrTimeout) }

// ResponseError builds the *Error for a response that failed (or whose
// body could not be used, then with cause set), reading whatever message
// body carries in any of Nextcloud's three dialects: OCS envelope
// (docs/nextcloud-contract.md §2.1), app JSON ({"message"}) and sabre/dav
// XML (<s:message>). body is what the caller read of the response; it may
// be nil. An OCS v1 failure answered with HTTP 200 gets the status its
// statuscode maps to.
func (c *Client) ResponseError(r *Request, resp *Response, body []byte, cause error) *Error {
	return c.newError(r, resp.Status, body, cause)
}

func (c *Client) newError(r *Request, status int, body []byte, cause error) *Error {
	e := c.errorAt(r, status, cause)
	if len(body) > 0 {
		meta, msg := errorBodyMessage(body)
		if meta != nil {
			e.OCSStatus = meta.StatusCode
			if mapped := ocsHTTPStatus(meta.StatusCode); mapped != 0 && status == http.StatusOK {
				// OCS v1 answers failures with HTTP 200.
				e.Status = mapped
			}
		}
		e.Message = sanitize(msg)
	}
	if e.Status == http.StatusUnauthorized && r.AppRoute && e.AuthKind == AuthBearer && e.Message == corsRefusal {
		e.BearerRejectedOnAppRoute = true
	}
	return e
}

// Unexpected describes a malformed success response, naming its
// Content-Type; it matches ErrUnexpectedResponse. Use it as the cause of a
// ResponseError.
func Unexpected(resp *Response, what string) error {
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	}
	if ct != "" {
		what += " (Content-Type " + ct + ")"
	}
	return &unexpectedError{what}
}

// unexpectedError describes a malformed response; it matches
// ErrUnexpectedResponse.
type unexpectedError struct{ what string }

func (u *unexpectedError) Error() string        { return u.what }
func (u *unexpectedError) Is(target error) bool { return target == ErrUnexpectedResponse }

// errorBodyMessage extracts a human message from an error body.
func errorBodyMessage(body []byte) (*ocsMeta, string) {
	trimmed := strings.TrimSpace(string(body))
	switch {
	case strings.HasPrefix(trimmed, "{"):
		var env ocsEnvelope
		if json.Unmarshal(body, &env) == nil && env.OCS != nil {
			msg := env.OCS.Meta.Message
			if msg == "" {
				var data struct {
					Message string `json:"message"`
				}
				if json.Unmarshal(env.OCS.Data, &data) == nil {
					msg = data.Message
				}
			}
			return &env.OCS.Meta, msg
		}
		var app struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &app) == nil {
			return nil, app.Message
		}
	case strings.HasPrefix(trimmed, "<"):
		var de struct {
			Exception string `xml:"http://sabredav.org/ns exception"`
			Message   string `xml:"http://sabredav.org/ns message"`
		}
		if xml.Unmarshal(body, &de) == nil {
			return nil, de.Message
		}
	}
	return nil, ""
}

// sanitize makes a server message safe and short for an error text:
// control characters dropped, at most 200 runes.
func sanitize(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200]) + "…"
	}
	return s
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}
