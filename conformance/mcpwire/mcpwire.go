// Package mcpwire speaks just enough MCP over streamable HTTP (MCP
// 2025-11-25 §Transports) to grade a server from outside: every call
// returns the raw HTTP status and headers next to the decoded JSON-RPC
// message, because the conformance suite judges exactly those (401/403
// challenges, session handling) where an SDK client would hide them.
package mcpwire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// ProtocolVersion is the MCP revision the client offers.
const ProtocolVersion = "2025-11-25"

// maxBody bounds how much of a response is read.
const maxBody = 8 << 20

// Client is one MCP client identity: a bearer token (optional) and, after
// Initialize, a session id. It is not safe for concurrent use.
type Client struct {
	URL  string
	HTTP *http.Client
	// Token is sent as "Authorization: Bearer <Token>" when non-empty.
	Token string
	// SessionID is the Mcp-Session-Id the server assigned, sent on every
	// request after Initialize.
	SessionID string
	// Protocol is the negotiated protocol version.
	Protocol string
	// Offer is the protocol version Initialize offers (ProtocolVersion
	// when empty).
	Offer  string
	nextID atomic.Int64
}

// RPCError is a JSON-RPC error object.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message) }

// Message is a JSON-RPC message (request, notification or response).
type Message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *RPCError       `json:"error,omitempty"`
}

// Response is what one HTTP exchange produced.
type Response struct {
	Status int
	Header http.Header
	// Body is the raw body (for an SSE stream, the whole stream as read).
	Body []byte
	// Reply is the JSON-RPC response to the request sent, if one arrived.
	Reply *Message
	// Others are the other messages seen on the stream (notifications,
	// server requests).
	Others []Message
}

// OK reports a 2xx status.
func (r *Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Summary is a one-line description for evidence: status, and the
// JSON-RPC error if any.
func (r *Response) Summary() string {
	s := fmt.Sprintf("HTTP %d", r.Status)
	if r.Reply != nil && r.Reply.Error != nil {
		s += fmt.Sprintf(" (JSON-RPC %d %q)", r.Reply.Error.Code, truncate(r.Reply.Error.Message, 120))
	}
	return s
}

// Request tweaks one outgoing HTTP request (e.g. move the token to the
// query string, drop the session id).
type Request func(*http.Request)

// Send posts one JSON-RPC request and reads the reply. A non-2xx status is
// not an error: the caller grades it. err is only for transport failures
// and unreadable bodies.
func (c *Client) Send(ctx context.Context, method string, params any, tweaks ...Request) (*Response, error) {
	id := c.nextID.Add(1)
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	return c.post(ctx, msg, fmt.Sprint(id), tweaks)
}

// Notify posts one JSON-RPC notification.
func (c *Client) Notify(ctx context.Context, method string, params any, tweaks ...Request) (*Response, error) {
	msg := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		msg["params"] = params
	}
	return c.post(ctx, msg, "", tweaks)
}

// SendRaw posts body as it is (a batch, a malformed message) and reads
// the whole answer: every JSON-RPC message of a JSON or SSE response is
// in Others.
func (c *Client) SendRaw(ctx context.Context, body []byte, tweaks ...Request) (*Response, error) {
	resp, err := c.postBody(ctx, body, "", tweaks)
	if err != nil || resp == nil {
		return resp, err
	}
	if len(resp.Others) == 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		var many []Message
		if json.Unmarshal(resp.Body, &many) == nil {
			resp.Others = many
		} else {
			var one Message
			if json.Unmarshal(resp.Body, &one) == nil && (one.Result != nil || one.Error != nil) {
				resp.Others = []Message{one}
			}
		}
	}
	return resp, nil
}

func (c *Client) post(ctx context.Context, msg any, wantID string, tweaks []Request) (*Response, error) {
	body, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	return c.postBody(ctx, body, wantID, tweaks)
}

func (c *Client) postBody(ctx context.Context, body []byte, wantID string, tweaks []Request) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.SessionID != "" {
		req.Header.Set("Mcp-Session-Id", c.SessionID)
	}
	if c.Protocol != "" {
		req.Header.Set("Mcp-Protocol-Version", c.Protocol)
	}
	for _, t := range tweaks {
		t(req)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read below; closing only releases the connection
	out := &Response{Status: resp.StatusCode, Header: resp.Header}
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "text/event-stream") {
		err = readSSE(resp.Body, wantID, out)
	} else {
		out.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err == nil && wantID != "" && len(bytes.TrimSpace(out.Body)) > 0 && strings.Contains(ct, "json") {
			var m Message
			if json.Unmarshal(out.Body, &m) == nil && (m.Result != nil || m.Error != nil) {
				out.Reply = &m
			}
		}
	}
	return out, err
}

// readSSE reads events until the reply with id wantID arrives (the server
// then ends the stream) or the stream ends.
func readSSE(r io.Reader, wantID string, out *Response) error {
	var raw bytes.Buffer
	sc := bufio.NewScanner(io.TeeReader(io.LimitReader(r, maxBody), &raw))
	sc.Buffer(make([]byte, 64<<10), maxBody)
	var data strings.Builder
	flush := func() bool {
		if data.Len() == 0 {
			return false
		}
		var m Message
		err := json.Unmarshal([]byte(data.String()), &m)
		data.Reset()
		if err != nil {
			return false
		}
		if (m.Result != nil || m.Error != nil) && idString(m.ID) == wantID {
			out.Reply = &m
			return true
		}
		out.Others = append(out.Others, m)
		return false
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if flush() {
				out.Body = raw.Bytes()
				return nil
			}
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	flush()
	out.Body = raw.Bytes()
	return sc.Err()
}

func idString(id json.RawMessage) string {
	s := strings.TrimSpace(string(id))
	return strings.Trim(s, `"`)
}

// Initialize runs the initialize handshake (initialize, then
// notifications/initialized) and keeps the session id. The returned
// response is the initialize reply; a non-2xx status or a JSON-RPC error
// leaves the client uninitialized and is returned as is (err == nil).
func (c *Client) Initialize(ctx context.Context, tweaks ...Request) (*Response, error) {
	offer := c.Offer
	if offer == "" {
		offer = ProtocolVersion
	}
	resp, err := c.Send(ctx, "initialize", map[string]any{
		"protocolVersion": offer,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]any{"name": "nextcloud-mcp-conformance", "version": "1"},
	}, tweaks...)
	if err != nil || !resp.OK() || resp.Reply == nil || resp.Reply.Error != nil {
		return resp, err
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(resp.Reply.Result, &res); err != nil {
		return resp, fmt.Errorf("mcpwire: initialize result: %w", err)
	}
	c.Protocol = res.ProtocolVersion
	c.SessionID = resp.Header.Get("Mcp-Session-Id")
	n, err := c.Notify(ctx, "notifications/initialized", nil)
	if err != nil {
		return resp, err
	}
	if !n.OK() {
		return resp, fmt.Errorf("mcpwire: notifications/initialized: HTTP %d", n.Status)
	}
	return resp, nil
}

// Delete ends the session (HTTP DELETE with its Mcp-Session-Id).
func (c *Client) Delete(ctx context.Context) (*Response, error) {
	if c.SessionID == "" {
		return nil, errors.New("mcpwire: no session")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.URL, nil)
	if err != nil {
		return nil, err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	req.Header.Set("Mcp-Session-Id", c.SessionID)
	if c.Protocol != "" {
		req.Header.Set("Mcp-Protocol-Version", c.Protocol)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read below
	out := &Response{Status: resp.StatusCode, Header: resp.Header}
	out.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return out, err
}

// Tool is a tool as tools/list describes it.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema"`
	Annotations *struct {
		ReadOnlyHint    bool  `json:"readOnlyHint"`
		DestructiveHint *bool `json:"destructiveHint"`
	} `json:"annotations,omitempty"`
}

// ListTools pages through tools/list. On a non-2xx status or a JSON-RPC
// error it returns that response and a nil list with err == nil.
func (c *Client) ListTools(ctx context.Context) ([]Tool, *Response, error) {
	all := []Tool{}
	cursor := ""
	for page := 0; page < 100; page++ {
		var params any
		if cursor != "" {
			params = map[string]any{"cursor": cursor}
		}
		resp, err := c.Send(ctx, "tools/list", params)
		if err != nil {
			return nil, resp, err
		}
		if !resp.OK() || resp.Reply == nil || resp.Reply.Error != nil {
			return nil, resp, nil
		}
		var res struct {
			Tools      []Tool `json:"tools"`
			NextCursor string `json:"nextCursor"`
		}
		if err := json.Unmarshal(resp.Reply.Result, &res); err != nil {
			return nil, resp, fmt.Errorf("mcpwire: tools/list result: %w", err)
		}
		all = append(all, res.Tools...)
		if res.NextCursor == "" {
			return all, resp, nil
		}
		cursor = res.NextCursor
	}
	return nil, nil, errors.New("mcpwire: tools/list paged more than 100 times")
}

// ToolResult is a tools/call result.
type ToolResult struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text,omitempty"`
	} `json:"content"`
	StructuredContent json.RawMessage `json:"structuredContent,omitempty"`
	IsError           bool            `json:"isError"`
}

// Text joins the text content items.
func (r *ToolResult) Text() string {
	var parts []string
	for _, c := range r.Content {
		if c.Text != "" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// CallTool calls a tool. res is nil when the call did not produce a
// result (non-2xx status or JSON-RPC error); the caller inspects resp.
func (c *Client) CallTool(ctx context.Context, name string, args map[string]any, tweaks ...Request) (*ToolResult, *Response, error) {
	if args == nil {
		args = map[string]any{}
	}
	resp, err := c.Send(ctx, "tools/call", map[string]any{"name": name, "arguments": args}, tweaks...)
	if err != nil || !resp.OK() || resp.Reply == nil || resp.Reply.Error != nil {
		return nil, resp, err
	}
	var res ToolResult
	if err := json.Unmarshal(resp.Reply.Result, &res); err != nil {
		return nil, resp, fmt.Errorf("mcpwire: tools/call result: %w", err)
	}
	return &res, resp, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
