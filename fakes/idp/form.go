package idp

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
)

// maxFormBytes bounds request bodies; OAuth requests are small.
const maxFormBytes = 64 << 10

// params is a decoded, duplicate-checked parameter set. Per RFC 6749 §3.1
// a parameter sent without a value is treated as omitted.
type params url.Values

func (v params) get(name string) string {
	if vs := v[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (v params) all(name string) []string { return v[name] }

// decodeParams turns raw values into params: empty values are dropped and a
// parameter given twice is an invalid_request (RFC 6749 §3.1), except the
// names listed in multi (e.g. RFC 8707 resource, RFC 8693 audience).
func decodeParams(raw url.Values, multi ...string) (params, *Error) {
	out := params{}
	for k, vs := range raw {
		var kept []string
		for _, v := range vs {
			if v != "" {
				kept = append(kept, v)
			}
		}
		if len(kept) == 0 {
			continue
		}
		if len(kept) > 1 && !slices.Contains(multi, k) {
			return nil, errInvalidRequest("parameter " + printable(k) + " must not be repeated")
		}
		out[k] = kept
	}
	return out, nil
}

// printable bounds a parameter name for use in an error description.
func printable(s string) string {
	s = safeDesc(s)
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// readForm reads an application/x-www-form-urlencoded POST body. The query
// string must be empty: credentials in URLs end up in logs.
func readForm(r *http.Request, multi ...string) (params, *Error) {
	if r.Method != http.MethodPost {
		return nil, &Error{Code: "invalid_request", Description: "the method must be POST", Status: http.StatusMethodNotAllowed}
	}
	if r.URL.RawQuery != "" {
		return nil, errInvalidRequest("parameters must be sent in the request body, not the query string")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errInvalidRequest("the content type must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxFormBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errInvalidRequest("the request body is too large")
		}
		return nil, errInvalidRequest("the request body could not be read")
	}
	raw, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errInvalidRequest("the request body is not valid form encoding")
	}
	return decodeParams(raw, multi...)
}
