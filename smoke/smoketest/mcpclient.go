package smoketest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Rejection is an HTTP refusal of an MCP request (4xx/5xx), as the client
// transport saw it: the JSON-RPC method, the status and the challenge.
type Rejection struct {
	RPCMethod       string
	Status          int
	WWWAuthenticate string
	Body            string
}

// bearerTransport adds the current bearer token to every request and
// records refusals; SetToken swaps the token mid-session, the way a client
// does after a step-up authorization.
type bearerTransport struct {
	base http.RoundTripper

	mu         sync.Mutex
	token      string
	rejections []Rejection
}

func (b *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b.mu.Lock()
	tok := b.token
	b.mu.Unlock()
	r = r.Clone(r.Context())
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	method := rpcMethod(r)
	resp, err := b.base.RoundTrip(r)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	// The body read is handed on in its place; closing the original only
	// releases the connection.
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	b.mu.Lock()
	b.rejections = append(b.rejections, Rejection{RPCMethod: method, Status: resp.StatusCode,
		WWWAuthenticate: resp.Header.Get("WWW-Authenticate"), Body: string(body)})
	b.mu.Unlock()
	return resp, nil
}

// rpcMethod reads the JSON-RPC method of a POST without consuming it.
func rpcMethod(r *http.Request) string {
	if r.Method != http.MethodPost || r.GetBody == nil {
		return r.Method
	}
	body, err := r.GetBody()
	if err != nil {
		return ""
	}
	defer func() { _ = body.Close() }() // an in-memory copy of the request body
	var msg struct {
		Method string `json:"method"`
	}
	_ = json.NewDecoder(io.LimitReader(body, 1<<20)).Decode(&msg)
	return msg.Method
}

// Client is a real MCP client (go-sdk's mcp.Client over the streamable
// HTTP transport) with a bearer token it can swap.
type Client struct {
	Session   *mcp.ClientSession
	transport *bearerTransport
}

// Connect initializes an MCP session at mcpURL; token may be empty (basic
// mode).
func Connect(ctx context.Context, mcpURL, token string) (*Client, error) {
	bt := &bearerTransport{base: http.DefaultTransport, token: token}
	c := mcp.NewClient(&mcp.Implementation{Name: "nextcloud-mcp-smoke", Version: "1"}, nil)
	session, err := c.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:             mcpURL,
		HTTPClient:           &http.Client{Transport: bt, Timeout: 60 * time.Second},
		DisableStandaloneSSE: true,
		MaxRetries:           -1,
	}, nil)
	if err != nil {
		ce := &ConnectError{Msg: fmt.Sprintf("MCP initialize at %s failed: %v", mcpURL, err)}
		if rej, ok := bt.last(); ok {
			ce.Rejection = &rej
			ce.Msg += fmt.Sprintf(" (HTTP %d, WWW-Authenticate: %q)", rej.Status, rej.WWWAuthenticate)
		}
		return nil, ce
	}
	return &Client{Session: session, transport: bt}, nil
}

// ConnectError is a failed initialize, with the HTTP refusal if there was
// one.
type ConnectError struct {
	Msg       string
	Rejection *Rejection
}

func (e *ConnectError) Error() string { return e.Msg }

// SetToken replaces the bearer token for the following requests.
func (c *Client) SetToken(tok string) {
	c.transport.mu.Lock()
	c.transport.token = tok
	c.transport.mu.Unlock()
}

// LastRejection returns the most recent HTTP refusal, if any.
func (c *Client) LastRejection() (Rejection, bool) { return c.transport.last() }

func (b *bearerTransport) last() (Rejection, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.rejections) == 0 {
		return Rejection{}, false
	}
	return b.rejections[len(b.rejections)-1], true
}

// Close ends the session.
func (c *Client) Close() error { return c.Session.Close() }

// ToolNames lists the tools the session sees, sorted.
func (c *Client) ToolNames(ctx context.Context) ([]string, error) {
	var names []string
	for tool, err := range c.Session.Tools(ctx, nil) {
		if err != nil {
			return nil, err
		}
		names = append(names, tool.Name)
	}
	sort.Strings(names)
	return names, nil
}

// Call calls a tool.
func (c *Client) Call(ctx context.Context, tool string, args map[string]any) (*mcp.CallToolResult, error) {
	return c.Session.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
}

// ResultText joins a result's text content.
func ResultText(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Structured decodes a result's structured content into out.
func Structured(res *mcp.CallToolResult, out any) error {
	if res == nil || res.StructuredContent == nil {
		return fmt.Errorf("the result has no structured content (text: %q)", ResultText(res))
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// Challenge is a parsed RFC 6750 WWW-Authenticate challenge.
type Challenge struct {
	Scheme string
	Params map[string]string
}

// ParseChallenge parses one challenge: a scheme, then comma-separated
// auth-params whose values are tokens or quoted strings. It is lenient
// about spacing and strict about structure: an unterminated quote is an
// error.
func ParseChallenge(h string) (Challenge, error) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	if scheme == "" {
		return Challenge{}, fmt.Errorf("empty challenge")
	}
	c := Challenge{Scheme: scheme, Params: map[string]string{}}
	rest = strings.TrimSpace(rest)
	for rest != "" {
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			return c, fmt.Errorf("challenge parameter %q has no value", strings.TrimSpace(rest))
		}
		name = strings.ToLower(strings.TrimSpace(name))
		after = strings.TrimLeft(after, " ")
		var val string
		if strings.HasPrefix(after, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(after); i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
					b.WriteByte(after[i])
					continue
				}
				if after[i] == '"' {
					break
				}
				b.WriteByte(after[i])
			}
			if i >= len(after) {
				return c, fmt.Errorf("challenge parameter %s: unterminated quoted string", name)
			}
			val, rest = b.String(), after[i+1:]
		} else {
			val, rest, _ = strings.Cut(after, ",")
			val = strings.TrimSpace(val)
			rest = "," + rest
		}
		c.Params[name] = val
		rest = strings.TrimSpace(rest)
		rest = strings.TrimPrefix(rest, ",")
		rest = strings.TrimSpace(rest)
	}
	return c, nil
}
