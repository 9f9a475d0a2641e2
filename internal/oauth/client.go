package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nextcloud-mcp-go/nextcloud-mcp-go/internal/upstream"
)

// DefaultTimeout bounds every call to the authorization server made with
// NewHTTPClient's client.
const DefaultTimeout = 10 * time.Second

// maxResponseBytes bounds what is read from any authorization-server
// response; real ones are a few KiB.
const maxResponseBytes = 1 << 20

// NewHTTPClient returns the client the OAuth packages use by default: its
// own tuned transport (upstream.NewTransport: connections to the
// authorization server stay alive between calls, so share one client for
// every call to one IdP), a total timeout on every request (DefaultTimeout
// when timeout <= 0) and no redirect following, because a POST carrying
// client credentials or tokens must not be replayed to wherever a 3xx
// points.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{
		Transport: upstream.NewTransport(upstream.DefaultMaxConns),
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// ClientCredentials identify this server as a confidential client. They are
// sent with client_secret_basic (RFC 6749 §2.3.1). String and LogValue never
// show the secret.
type ClientCredentials struct {
	ID     string
	Secret string
}

// String shows the client id only.
func (c ClientCredentials) String() string { return "client " + c.ID }

// LogValue keeps the secret out of slog output.
func (c ClientCredentials) LogValue() slog.Value { return slog.StringValue(c.ID) }

// SetBasicAuth adds the Authorization header of client_secret_basic. Both
// parts are form-urlencoded first, as RFC 6749 §2.3.1 requires (and as
// Keycloak and oidc-provider expect for secrets with special characters).
func (c ClientCredentials) SetBasicAuth(r *http.Request) {
	r.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
}

// Endpoint is one authorization-server endpoint this server calls as a
// client: token, introspection or revocation.
type Endpoint struct {
	// Name is used in errors, e.g. "token endpoint".
	Name string
	URL  string
	// Client authenticates the call with client_secret_basic; an empty ID
	// sends no authentication.
	Client ClientCredentials
	// HTTPClient defaults to NewHTTPClient(0).
	HTTPClient *http.Client
}

var defaultHTTPClient = NewHTTPClient(0)

func (e Endpoint) httpClient() *http.Client {
	if e.HTTPClient != nil {
		return e.HTTPClient
	}
	return defaultHTTPClient
}

func (e Endpoint) name() string {
	if e.Name != "" {
		return e.Name
	}
	return "authorization server"
}

// closeBody closes a response body after it was read. The error is dropped
// on purpose: the caller has the body it read (or reports the read error),
// and closing only hands the connection back to the transport.
func closeBody(body io.Closer) { _ = body.Close() }

// Post sends form as application/x-www-form-urlencoded and decodes a 2xx
// JSON answer into out (nil: the body is ignored). A 4xx OAuth error body
// becomes *Error; network failures, 5xx and unparseable answers wrap
// ErrUnavailable. Neither the form nor the response body ever appears in
// an error: both may hold tokens.
func (e Endpoint) Post(ctx context.Context, form url.Values, out any) error {
	if e.URL == "" {
		return fmt.Errorf("%s is not configured", e.name())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s: bad URL: %v", e.name(), redactURLError(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if e.Client.ID != "" {
		e.Client.SetBasicAuth(req)
	}
	resp, err := e.httpClient().Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w: %s: %w", ErrUnavailable, e.name(), ctxErr)
		}
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, e.name(), redactURLError(err))
	}
	defer closeBody(resp.Body)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%w: %s: reading the response: %v", ErrUnavailable, e.name(), err)
	}
	if len(body) > maxResponseBytes {
		return fmt.Errorf("%w: %s: response larger than %d bytes", ErrUnavailable, e.name(), maxResponseBytes)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%w: %s answered HTTP %d with a body that is not the expected JSON", ErrUnavailable, e.name(), resp.StatusCode)
		}
		return nil
	}
	return e.httpError(resp.StatusCode, body)
}

func (e Endpoint) httpError(status int, body []byte) error {
	var eb struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		ErrorURI         string `json:"error_uri"`
	}
	_ = json.Unmarshal(body, &eb)
	oe := &Error{
		Endpoint:    e.name(),
		Status:      status,
		Code:        cleanDescription(eb.Error),
		Description: cleanDescription(eb.ErrorDescription),
		URI:         cleanDescription(eb.ErrorURI),
	}
	if oe.Code == "" && status >= 300 && status < 400 {
		oe.Description = "unexpected redirect"
	}
	return oe
}

// redactURLError drops the URL from *url.Error: endpoint URLs are not
// secret, but a misconfigured one may carry credentials in userinfo.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
