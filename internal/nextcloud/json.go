package nextcloud

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
)

// JSON performs an app-route style call: a plain JSON answer, failures as
// {"message": ...} (Nextcloud's AppFramework). It decodes a 2xx body into
// out when out is non-nil and returns the response for its status and
// header; the body has been read and closed (Body is http.NoBody). Any
// other status is an *Error with Nextcloud's message. JSON sets
// "Accept: application/json" on a copy of r's header.
//
// JSON is Send, a bounded read, ResponseError and json.Unmarshal: an app
// whose API has quirks of its own composes the same exported pieces.
func (c *Client) JSON(ctx context.Context, r *Request, out any) (*Response, error) {
	r = withAccept(r, "application/json")
	resp, err := c.Send(ctx, r)
	if err != nil {
		return nil, err
	}
	body, rerr := ReadAll(resp)
	if resp.Status < 200 || resp.Status > 299 {
		return nil, c.ResponseError(r, resp, body, nil)
	}
	if rerr != nil {
		return nil, rerr
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return nil, c.ResponseError(r, resp, body, Unexpected(resp, err.Error()))
		}
	}
	resp.Body = http.NoBody
	return resp, nil
}

// ReadAll reads the rest of resp's body, within the call's size limit, and
// closes it. On failure it returns what it read and the *Error.
func ReadAll(resp *Response) ([]byte, error) {
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close() // all read: a close error changes nothing
	return b, err
}

// withAccept returns a shallow copy of r whose header (a copy) asks for
// the given media type.
func withAccept(r *Request, mediaType string) *Request {
	cp := *r
	cp.Header = r.Header.Clone()
	if cp.Header == nil {
		cp.Header = http.Header{}
	}
	cp.Header.Set("Accept", mediaType)
	return &cp
}
